// The server process of the SSE fan-out benchmark: one SseManager (`original` or `authcore`)
// behind a plain http server. GET /stream subscribes to `global`; GET /mem answers the heap and
// RSS after a GC; GET /fire?n=N broadcasts N track-shaped events (in slices, so sockets flush).
import http from 'node:http'
import { OriginalSseManager } from './sse-original.mjs'
import { loadAuthcore } from './common.mjs'

const [impl, portArg] = process.argv.slice(2)
const manager = impl === 'original' ? new OriginalSseManager() : new (await loadAuthcore()).SseManager({ maxConnectionsPerUser: 100000 })

let seq = 0
function event() {
  seq++
  const id = `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`
  return {
    id,
    timestamp: new Date().toISOString(),
    type: 'bench.event',
    data: { id, event: 'bench.event', timestamp: new Date().toISOString(), data: { n: seq, note: 'fan-out benchmark' }, userId: 'u1', tenantId: 't1' },
    userId: 'u1',
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x')
  if (url.pathname === '/stream') {
    manager.connect(res, ['global'], {})
    return
  }
  if (url.pathname === '/mem') {
    globalThis.gc?.()
    globalThis.gc?.()
    const m = process.memoryUsage()
    res.end(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, connections: manager.connectionCount }))
    return
  }
  if (url.pathname === '/fire') {
    const n = Number(url.searchParams.get('n') ?? 1)
    let left = n
    const slice = () => {
      const k = Math.min(left, 50)
      for (let i = 0; i < k; i++) manager.broadcast('global', event())
      left -= k
      if (left > 0) setImmediate(slice)
      else res.end('ok')
    }
    slice()
    return
  }
  res.statusCode = 404
  res.end()
})
server.maxConnections = 200000
server.listen({ port: Number(portArg), host: '127.0.0.1', backlog: 4096 }, () => console.log(String(server.address().port)))
// Ends with its parent (a crashed benchmark leaves no server behind).
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
