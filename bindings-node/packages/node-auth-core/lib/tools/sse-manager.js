'use strict'
// SseManager of awesome-node-auth 1.9.0 (src/tools/sse-manager.ts) on the core's events
// engine (authcore::events::EventHub): topic index, one frame per event, one heartbeat
// timer, bounded queues, replay after Last-Event-ID, limits. JS only writes the frame the
// engine encoded to each `res` the engine names; a plain HTTP/1.1 response over TCP with
// nothing buffered has its socket attached to the engine instead (`nativeWrites`, on by
// default), which writes each frame to it as the response would (one chunk), with no
// JavaScript per subscriber. A socket that does not take a frame whole goes back to `res`.
// When nothing else listens on the response or its request (`releaseResponses`, on by
// default with native writes, Linux), the response is then released: the socket's JS
// descriptor is closed and the ServerResponse, IncomingMessage and net.Socket are dropped,
// so an idle subscriber costs the connection and a small engine slot. The engine then
// detects the client's close (reported to `#onClosed`), buffers what the socket does not
// take (within maxQueueBytes, past which the subscriber is dropped, as a slow `res` is)
// and, on disconnect, ends the body and closes the connection.
const { randomUUID } = require('node:crypto')
const http = require('node:http')
const native = require('../native')

const HEADERS = [
  ['Content-Type', 'text/event-stream'],
  ['Cache-Control', 'no-cache'],
  ['Connection', 'keep-alive'],
  ['X-Accel-Buffering', 'no'],
]

// The managers with released connections on an http.Server: its closeAllConnections()
// closes those too, as it closes every socket it holds.
const kReleased = Symbol('authcore.sse.released')
const kCloseReleased = Symbol('authcore.sse.closeReleased')
function closeReleasedToo(server, manager) {
  if (!server[kReleased]) {
    const managers = new Set()
    const closeAll = server.closeAllConnections
    Object.defineProperty(server, kReleased, { value: managers })
    server.closeAllConnections = function closeAllConnections(...args) {
      for (const m of managers) m.deref()?.[kCloseReleased](this)
      return closeAll.apply(this, args)
    }
  }
  for (const m of server[kReleased]) if (m.deref() === manager) return
  server[kReleased].add(new WeakRef(manager))
}

function engineOptions(o) {
  return {
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 30000,
    deduplicate: o.deduplicate !== false,
    maxSubscribers: o.maxConnections,
    maxPerUser: o.maxConnectionsPerUser,
    maxTopics: o.maxTopicsPerConnection,
    maxQueueBytes: o.maxQueueBytes,
    maxFrameBytes: o.maxEventBytes,
    replayEvents: o.replayBufferSize,
    replayBytes: o.replayBufferBytes,
  }
}

// The payload travels under `rawData`; `data: undefined` keeps the key's place and JSON drops it.
function frameJson(event) {
  return JSON.stringify({ ...event, data: undefined, rawData: event.data })
}

class SseManager {
  #hub
  #conns = new Map() // engine id -> connection
  #ids = new Map() // connection id (uuid) -> engine id
  #timer = null
  #distributor
  #native
  #release

  constructor(options = {}) {
    this.#hub = new native.EventHub(engineOptions(options))
    this.#native = options.nativeWrites !== false && typeof this.#hub.attachSocket === 'function'
    this.#release = this.#native && options.releaseResponses !== false && typeof this.#hub.releaseSocket === 'function'
    if (this.#release) {
      // Weakly: the engine's callback must not keep this manager (and so itself) alive.
      const self = new WeakRef(this)
      this.#hub.watchSockets((ids) => self.deref()?.#onClosed(ids))
    }
    this.#distributor = options.distributor
    if (this.#distributor) {
      // The original neither awaits nor catches this promise (an unhandled rejection).
      Promise.resolve()
        .then(() => this.#distributor.subscribe((topic, event) => this.#broadcastLocal(topic, event)))
        .catch((err) => console.error('[SseManager] distributor subscribe failed:', err))
    }
  }

  get connectionCount() {
    return this.#conns.size
  }

  // connect(res, topics, meta?): headers, the `connected` frame, then the replay after
  // meta.lastEventId. Throws (err.code EVENTS_TOO_MANY_*, err.status 429/400) over a limit.
  connect(res, topics, meta = {}) {
    const id = randomUUID()
    const list = Array.from(topics ?? [], String)
    const sub = this.#hub.subscribe(
      list,
      meta.userId ?? undefined,
      meta.tenantId ?? undefined,
      meta.lastEventId ?? undefined,
    )
    for (const [k, v] of HEADERS) res.setHeader(k, v)
    res.flushHeaders?.()
    // The engine holds the topics and tenant; JS keeps what it needs to write and to close.
    const conn = { id, engineId: sub.id, res, userId: meta.userId, sessionId: meta.sessionId, waiting: false, attached: false, onClose: null, server: null }
    this.#conns.set(sub.id, conn)
    this.#ids.set(id, sub.id)
    const connected = {
      id: randomUUID(),
      type: 'connected',
      timestamp: new Date().toISOString(),
      topic: 'meta',
      data: { connectionId: id, topics: list },
    }
    this.#write(conn, this.#hub.encode(connected.id, connected.type, frameJson(connected)))
    for (const frame of sub.replay) this.#write(conn, frame)
    if (typeof res.on === 'function') {
      conn.onClose = () => this.disconnect(id)
      res.on('close', conn.onClose)
    }
    this.#startTimer()
    // After this tick's writes left (ServerResponse corks the socket until the next tick).
    if (this.#native && res instanceof http.ServerResponse) setImmediate(() => this.#attach(conn))
    return id
  }

  // Hand the socket to the engine when its frames can go there byte for byte: a plain TCP
  // socket (no TLS, no idle timeout), the stock ServerResponse.write (no compression or
  // other wrapper), headers sent, nothing buffered, chunked or raw body framing.
  #attach(conn) {
    const res = conn.res
    const sock = res.socket
    if (!this.#conns.has(conn.engineId) || conn.waiting || !sock || sock.destroyed || sock.encrypted) return
    if (res.write !== http.ServerResponse.prototype.write || res.writableEnded || !res.headersSent) return
    if (res.writableLength !== 0 || sock.writableLength !== 0 || res.hasHeader('content-length')) return
    // An idle timeout on the socket (server.timeout / setTimeout) is reset by JS writes only.
    if (sock.timeout > 0) return
    const fd = sock._handle?.fd
    if (typeof fd !== 'number' || fd < 0) return
    conn.attached = this.#hub.attachSocket(conn.engineId, fd, res.chunkedEncoding === true)
    if (conn.attached && this.#release) this.#releaseResponse(conn)
  }

  // Only when no one else listens on the response or the request (an app's own 'close'
  // handler, a logger's 'finish') would they notice: the release closes the JS socket.
  #releaseResponse(conn) {
    const res = conn.res
    const req = res.req
    const server = res.socket.server
    if (typeof server?.closeAllConnections !== 'function') return
    for (const name of res.eventNames()) {
      const n = res.listenerCount(name)
      if (name === 'close' ? n !== 1 || res.listeners('close')[0] !== conn.onClose : name !== 'finish' || n > 1) return
    }
    if (req && req.eventNames().length > 0) return
    if (!this.#hub.releaseSocket(conn.engineId)) return
    res.removeListener('close', conn.onClose)
    conn.onClose = null
    conn.res = null
    conn.server = server
    closeReleasedToo(server, this)
    // The engine's duplicate keeps the connection open; this closes only the JS side.
    res.socket.destroy()
  }

  // `server.closeAllConnections()`: its released connections close (no end of body, as a
  // destroyed socket).
  [kCloseReleased](server) {
    for (const conn of [...this.#conns.values()]) {
      if (conn.server !== server) continue
      this.#hub.detachSocket(conn.engineId)
      this.disconnect(conn.id)
    }
  }

  // The engine saw these released connections close (or fail): remove them.
  #onClosed(engineIds) {
    for (const engineId of engineIds) {
      const conn = this.#conns.get(engineId)
      if (conn) this.disconnect(conn.id)
    }
  }

  // broadcast(topic, event): {id, timestamp, topic, ...event}; a caller's `topic` key or
  // `id: undefined` no longer overrides the generated values (their places in the JSON are kept).
  broadcast(topic, event) {
    const full = { id: event.id ?? randomUUID(), timestamp: event.timestamp ?? new Date().toISOString(), topic, ...event }
    if (full.id == null) full.id = randomUUID()
    if (full.timestamp == null) full.timestamp = new Date().toISOString()
    full.topic = topic
    if (this.#distributor) {
      // Refuse an unframeable event here too, before it reaches other processes.
      this.#hub.encode(String(full.id), String(full.type), '{}')
      let p
      try {
        p = Promise.resolve(this.#distributor.publish(topic, full))
      } catch (err) {
        p = Promise.reject(err)
      }
      p.catch(() => this.#broadcastLocal(topic, full))
      return
    }
    this.#broadcastLocal(topic, full)
  }

  #broadcastLocal(topic, event) {
    const tenant = event.tenantId ? String(event.tenantId) : undefined
    const d = this.#hub.publish(String(topic), String(event.id), String(event.type), tenant, frameJson(event))
    this.#settle(d)
  }

  // What the engine left to JS: frames to write through `res`, the rest of frames a socket
  // took only in part (raw bytes, already framed), and the slow clients to end.
  #settle(d) {
    for (const engineId of d.write) {
      const conn = this.#conns.get(engineId)
      if (conn) this.#write(conn, d.frame)
    }
    for (const p of d.partial) {
      const conn = this.#conns.get(p.id)
      if (!conn) continue
      conn.attached = false
      this.#write(conn, p.rest, true)
    }
    for (const engineId of d.overflowed) this.#drop(engineId)
  }

  #write(conn, frame, raw = false) {
    // Released: the engine writes its frames; one without its socket is being closed.
    if (conn.res === null) return
    let ok
    try {
      ok = raw ? conn.res.socket.write(frame) : conn.res.write(frame)
    } catch {
      this.disconnect(conn.id)
      return
    }
    if (ok === false && typeof conn.res.once === 'function') {
      this.#hub.block(conn.engineId)
      if (!conn.waiting) {
        conn.waiting = true
        const emitter = raw ? conn.res.socket : conn.res
        emitter.once('drain', () => {
          conn.waiting = false
          if (!this.#conns.has(conn.engineId)) return
          const queued = this.#hub.drain(conn.engineId)
          for (const f of queued) this.#write(conn, f)
        })
      }
    }
  }

  // The slow-client policy: the engine already removed it; end the response.
  #drop(engineId) {
    const conn = this.#conns.get(engineId)
    if (conn) this.disconnect(conn.id)
  }

  #startTimer() {
    const ms = this.#hub.tickMs
    if (this.#timer || ms === 0) return
    this.#timer = setInterval(() => this.#settle(this.#hub.tick()), ms)
    this.#timer.unref?.()
  }

  disconnect(connectionId) {
    const engineId = this.#ids.get(connectionId)
    if (engineId === undefined) return
    this.#ids.delete(connectionId)
    const conn = this.#conns.get(engineId)
    this.#conns.delete(engineId)
    this.#hub.unsubscribe(engineId)
    if (this.#conns.size === 0 && this.#timer) {
      clearInterval(this.#timer)
      this.#timer = null
    }
    try {
      conn.res?.end()
    } catch {
      // already closed
    }
  }

  // Close every connection opened for a session (a revoked session's streams end).
  disconnectSession(sessionId) {
    let n = 0
    for (const conn of [...this.#conns.values()]) {
      if (sessionId && conn.sessionId === sessionId) {
        this.disconnect(conn.id)
        n++
      }
    }
    return n
  }

  // Close every connection of a user.
  disconnectUser(userId) {
    let n = 0
    for (const conn of [...this.#conns.values()]) {
      if (userId && conn.userId === userId) {
        this.disconnect(conn.id)
        n++
      }
    }
    return n
  }
}

module.exports = { SseManager }
