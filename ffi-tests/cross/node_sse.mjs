// A Node process of the cross-process SSE fan-out test (test_sse_fanout.py): an SseManager on
// the Redis distributor with one subscriber; "track <name>" tracks, "dump" prints the event types.
import { EventEmitter } from 'node:events'
import readline from 'node:readline'
import { AuthEventBus, AuthTools, createRedisDistributor } from '@authcore/node-auth-core'

const [url, channel] = process.argv.slice(2)
const distributor = createRedisDistributor(url, { channel })
await distributor.connect()
const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0, distributor } })
const res = new EventEmitter()
let body = ''
Object.assign(res, { setHeader() {}, write: (c) => ((body += c), true), end() {} })
tools.sseManager.connect(res, ['global', 'user:u1'])
const rl = readline.createInterface({ input: process.stdin })
rl.on('line', async (line) => {
  const [cmd, arg] = line.split(' ')
  if (cmd === 'track') {
    await tools.track(arg, { from: 'node' }, { userId: 'u1' })
    console.log('tracked')
  } else if (cmd === 'dump') {
    const types = body.split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7))
    console.log(JSON.stringify(types))
  } else if (cmd === 'exit') {
    await distributor.close()
    process.exit(0)
  }
})
console.log('ready')
