// awesome-node-auth 1.9.0's SseManager (src/tools/sse-manager.ts), its algorithm reimplemented
// faithfully for the fan-out benchmark (spec node-auth.md §2.6): a Map of connections scanned on
// every broadcast, JSON.stringify per connection, three res.write calls per frame, one
// setInterval per connection for heartbeats, dedupe on the last id only.
import { randomUUID } from 'node:crypto'

export class OriginalSseManager {
  constructor(options = {}) {
    this.connections = new Map()
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 30000
    this.deduplicate = options.deduplicate !== false
  }

  get connectionCount() {
    return this.connections.size
  }

  connect(res, topics, meta) {
    const id = randomUUID()
    res.setHeader('Content-Type', 'text/event-stream')
    res.setHeader('Cache-Control', 'no-cache')
    res.setHeader('Connection', 'keep-alive')
    res.setHeader('X-Accel-Buffering', 'no')
    res.flushHeaders?.()
    this.writeEvent(res, { id: randomUUID(), type: 'connected', timestamp: new Date().toISOString(), topic: 'meta', data: { connectionId: id, topics } })
    const conn = { id, res, topics: new Set(topics), userId: meta?.userId, tenantId: meta?.tenantId }
    if (this.heartbeatIntervalMs > 0) {
      conn.heartbeatTimer = setInterval(() => {
        try {
          res.write(': heartbeat\n\n')
        } catch {
          this.disconnect(id)
        }
      }, this.heartbeatIntervalMs)
    }
    this.connections.set(id, conn)
    res.on('close', () => this.disconnect(id))
    return id
  }

  broadcast(topic, event) {
    const full = { id: event.id ?? randomUUID(), timestamp: event.timestamp ?? new Date().toISOString(), topic, ...event }
    this.broadcastLocal(topic, full)
  }

  broadcastLocal(topic, event) {
    for (const conn of this.connections.values()) {
      if (!conn.topics.has(topic)) continue
      if (event.tenantId && conn.tenantId && conn.tenantId !== event.tenantId) continue
      if (this.deduplicate && event.id === conn.lastEventId) continue
      conn.lastEventId = event.id
      try {
        this.writeEvent(conn.res, event)
      } catch {
        this.disconnect(conn.id)
      }
    }
  }

  writeEvent(res, event) {
    res.write(`id: ${event.id}\n`)
    res.write(`event: ${event.type}\n`)
    res.write(`data: ${JSON.stringify({ ...event, data: undefined, rawData: event.data })}\n\n`)
  }

  disconnect(id) {
    const conn = this.connections.get(id)
    if (!conn) return
    if (conn.heartbeatTimer) clearInterval(conn.heartbeatTimer)
    this.connections.delete(id)
    try {
      conn.res.end()
    } catch {
      // ignore
    }
  }
}
