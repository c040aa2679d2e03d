'use strict'
// An ISseDistributor over Redis pub/sub, in the core (authcore::events::redis). Every process
// subscribes to one channel and its own publishes come back to it (the self-echo SseManager
// expects), so an event reaches each subscriber of every process exactly once. Node and Python
// processes (authcore.events) on the same channel share events.
const native = require('../native')

class RedisSseDistributor {
  #native
  #connected
  #closed = false

  constructor(url, options = {}) {
    this.channel = options.channel ?? 'authcore:sse'
    this.#native = new native.RedisDistributor(String(url), this.channel)
    this.#connected = null
  }

  // Resolves once subscribed (publish and subscribe call it too).
  connect() {
    this.#connected ??= this.#native.connect()
    return this.#connected
  }

  async publish(topic, event) {
    await this.connect()
    await this.#native.publish(String(topic), JSON.stringify(event))
  }

  async subscribe(callback) {
    await this.connect()
    const pump = async () => {
      for (;;) {
        const m = await this.#native.next()
        if (!m || this.#closed) return
        let event
        try {
          event = JSON.parse(m[1])
        } catch {
          continue
        }
        try {
          callback(m[0], event)
        } catch (err) {
          console.error('[RedisSseDistributor] subscriber callback threw:', err)
        }
      }
    }
    pump().catch((err) => console.error('[RedisSseDistributor] subscription ended:', err))
  }

  // Messages dropped because this process did not read them in time.
  get dropped() {
    return this.#native.dropped
  }

  async close() {
    this.#closed = true
    await this.#native.close()
  }
}

function createRedisDistributor(url, options = {}) {
  return new RedisSseDistributor(url, options)
}

module.exports = { RedisSseDistributor, createRedisDistributor }
