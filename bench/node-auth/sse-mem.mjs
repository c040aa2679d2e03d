// Memory the SSE manager itself keeps per idle subscriber (the sockets and ServerResponses are
// the same for both implementations and are left out): a fresh process per implementation
// creates N stand-in responses, then connects them, and reports the V8 heap (+external) and
// RSS growth per subscriber after GC. Run by sse.mjs (node --expose-gc sse-mem.mjs <impl> <N>).
import { EventEmitter } from 'node:events'
import { OriginalSseManager } from './sse-original.mjs'
import { loadAuthcore } from './common.mjs'

const [impl, nArg] = process.argv.slice(2)
const N = Number(nArg)
const manager = impl === 'original' ? new OriginalSseManager() : new (await loadAuthcore()).SseManager({ maxConnectionsPerUser: N, maxConnections: N })
const sink = () => true
const responses = []
for (let i = 0; i < N; i++) {
  const r = new EventEmitter()
  r.setHeader = sink
  r.write = sink
  r.end = sink
  responses.push(r)
}
const measure = () => {
  for (let i = 0; i < 4; i++) globalThis.gc()
  const m = process.memoryUsage()
  return { heap: m.heapUsed + m.external, rss: m.rss }
}
const before = measure()
for (const r of responses) manager.connect(r, ['global', `user:${responses.length % 97}`], {})
const after = measure()
console.log(JSON.stringify({ heapPerSubB: (after.heap - before.heap) / N, rssPerSubB: (after.rss - before.rss) / N, connections: manager.connectionCount }))
process.exit(0)
