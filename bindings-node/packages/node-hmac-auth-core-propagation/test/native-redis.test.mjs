// With a node-redis client object, the propagation state goes over a native connection
// only when a probe written through the client is read back natively from the Redis the
// client's options name (same server, same database); every other client keeps the
// client-object path. Real Redis on 127.0.0.1:6379; the in-process mesh (no RabbitMQ).
import assert from 'node:assert/strict'
import { after, test } from 'node:test'

import { createClient } from 'redis'
import { initializeHmacHttpAuth } from '@authcore/node-hmac-auth-core'
import { createPropagator } from '@authcore/node-hmac-auth-core-propagation'

import { AMQP, MemoryManagement, REDIS_HOST, deleteKeys, runSuffix, waitFor } from './helpers.mjs'

const sfx = runSuffix()
const REDIS_MODE = Symbol.for('authcore.propagation.redisMode')
const auth = initializeHmacHttpAuth({ redis: `memory://native-${sfx}`, secretToken: 'pepper' })
const clients = []
const propagators = []

async function client(options) {
  const c = createClient({ socket: { connectTimeout: 2000, reconnectStrategy: false }, ...options })
  c.on('error', () => {})
  await c.connect()
  clients.push(c)
  return c
}

async function start(redis, extra = {}) {
  const p = await createPropagator({
    ...AMQP,
    amqpProtocol: 'memory',
    amqpHost: `native-${sfx}`,
    amqpQueue: `peer-${propagators.length}-${sfx}`,
    propagationSecret: 's',
    redis,
    hmacHttpAuth: auth,
    ...extra,
  })
  propagators.push(p)
  return p
}

after(async () => {
  await Promise.allSettled(propagators.map((p) => p.close()))
  for (const c of clients) await deleteKeys(c, `*${sfx}*`).catch(() => {})
  await Promise.allSettled(clients.map((c) => c.quit()))
})

test('a plain node-redis client: native, and its state is in the client\'s database', async () => {
  const c = await client({ url: `redis://${REDIS_HOST}/3` })
  const p = await start(c, { management: new MemoryManagement({ [`peer-0-${sfx}`]: 's' }) })
  assert.equal(p[REDIS_MODE], 'native')
  // a write of the state, read back through the client: same server, same database
  const clientId = `native-client-${sfx}`
  await p.ensure({ clientId, secret: 'x'.repeat(32), targets: [`elsewhere-${sfx}`] })
  await p.sync()
  await waitFor('the pending event in db 3', async () => (await c.sCard(`propagation:client-pending:${clientId}`)) === 1)
  // the probe is removed once the propagator is created
  await waitFor('no probe left', async () => (await c.keys('propagation:native-probe:*')).length === 0)
})

test('socket host/port/database options (no url) are followed too', async () => {
  const [host, port] = REDIS_HOST.split(':')
  const c = await client({ socket: { host, port: Number(port), connectTimeout: 2000, reconnectStrategy: false }, database: 4 })
  assert.equal((await start(c))[REDIS_MODE], 'native')
})

test('a client that SELECTed another database than its options say keeps the client path', async () => {
  const c = await client({ url: `redis://${REDIS_HOST}/3` })
  await c.select(5)
  assert.equal((await start(c))[REDIS_MODE], 'client')
  await waitFor('the probe removed from db 5', async () => (await c.keys('propagation:native-probe:*')).length === 0)
})

test('nativeRedis: false keeps every command on the client object', async () => {
  const c = await client({ url: `redis://${REDIS_HOST}/3` })
  assert.equal((await start(c, { nativeRedis: false }))[REDIS_MODE], 'client')
})

test('an object with the nine commands but no node-redis options keeps the client path, untouched', async () => {
  const calls = []
  const rec = (name) => async (...args) => {
    calls.push(name)
    return name === 'hGetAll' ? {} : name === 'sCard' ? 0 : null
  }
  const wrapper = Object.fromEntries(
    ['hGet', 'hSet', 'hGetAll', 'hDel', 'sAdd', 'sRem', 'sCard', 'expire', 'del'].map((n) => [n, rec(n)]),
  )
  assert.equal((await start(wrapper))[REDIS_MODE], 'client')
  assert.deepEqual(calls, [], 'no probe is written through a client without options')
})

test('a client whose write fails (closed) keeps the client path', async () => {
  const c = createClient({ url: `redis://${REDIS_HOST}/3`, socket: { reconnectStrategy: false } })
  c.on('error', () => {})
  // never connected: the probe write throws, nothing else changes
  assert.equal((await start(c))[REDIS_MODE], 'client')
})

for (const [mode, extra] of [['native', {}], ['client', { nativeRedis: false }]]) {
  test(`ensure (${mode} state) reads the client's outstanding events through the client object, next to clients.get${mode === 'native' ? ' (the probe showed it reaches the native state)' : ''}, and retires them before any write`, async () => {
    const c = await client({ url: `redis://${REDIS_HOST}/3` })
    const target = `away-${mode}-${sfx}`
    const m = new MemoryManagement({ [target]: 's' })
    const p = await start(c, { management: m, ...extra })
    assert.equal(p[REDIS_MODE], mode)
    const clientId = `retire-${mode}-${sfx}`
    const key = `propagation:client-outstanding:${clientId}`
    await p.ensure({ clientId, secret: 'one', targets: [target] })
    // published to a peer that is not running: the event stays outstanding
    assert.equal((await p.sync()).targetsPublished, 1)
    const [event] = Object.values(await c.hGetAll(key))
    assert.equal(typeof event, 'string')

    const hGetAll = c.hGetAll
    const reads = []
    c.hGetAll = function (...args) {
      reads.push(args[0])
      return hGetAll.apply(this, args)
    }
    try {
      assert.deepEqual(await p.ensure({ clientId, secret: 'two', targets: [target] }), { clientId, op: 'credential.update' })
    } finally {
      c.hGetAll = hGetAll
    }
    // the read goes through the client object, also when the state is native (no wake-up
    // of a runtime thread for it)
    assert.deepEqual(reads, [key])
    // retired: the old event's ack record and slot are gone; the next sync sends the new secret
    assert.equal(await c.exists(`propagation:ack:${event}`), 0)
    assert.equal(Object.keys(await c.hGetAll(key)).length, 0)
    assert.equal((await p.sync()).targetsPublished, 1)

    // a failed read: ensure rejects with it as a store error, after clients.get, before any write
    m.calls.length = 0
    c.hGetAll = async () => {
      throw new Error('read failed')
    }
    try {
      await assert.rejects(p.ensure({ clientId, secret: 'three', targets: [target] }), (e) => e.code === 'STORE_COMMAND' && /read failed/.test(e.message))
    } finally {
      c.hGetAll = hGetAll
    }
    assert.deepEqual(m.calls, [])
    assert.equal(m.credentials.get(clientId).secretPlain, 'two')
  })
}
