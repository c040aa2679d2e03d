// Where the time of ensure() goes (drop-in, node-redis client): N sequential ensures on one
// authority, interleaved with the same steps done directly from JS (clients.get, the
// management upsert, clients.setSecretHash), medians over rounds.
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { createClient } from 'redis'
import { hashClientSecret, initializeHmacHttpAuth } from '@authcore/node-hmac-auth-core'
import * as ours from '@authcore/node-hmac-auth-core-propagation'
import { MemoryManagement } from './management.mjs'

const N = Number(process.env.N ?? 500)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const now = () => performance.now()
const c = createClient({ url: 'redis://127.0.0.1:6379/11' })
await c.connect()
const run = randomBytes(3).toString('hex')
const auth = initializeHmacHttpAuth({ redis: c, namespace: `hmac:http:probe-${run}`, secretToken: 'pepper' })
const mgmt = new MemoryManagement({})
const prop = await ours.createPropagator({
  amqpHost: '127.0.0.1', amqpPort: 5672, amqpUser: 'guest', amqpPassword: 'guest', amqpProtocol: 'amqp',
  amqpQueue: `probe-${run}`, propagationSecret: 's', redis: c, hmacHttpAuth: auth, management: mgmt,
})
const T = ['t1', 't2']
const res = { ours: [], js: [] }
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of r % 2 ? ['js', 'ours'] : ['ours', 'js']) {
    const ids = Array.from({ length: N }, (_, i) => `${kind}${r}-${i}-${run}`)
    const t0 = now()
    if (kind === 'ours') {
      for (const [i, clientId] of ids.entries()) await prop.ensure({ clientId, secret: `plain-${i}`, targets: T })
    } else {
      for (const [i, clientId] of ids.entries()) {
        const existing = await auth.clients.get(clientId)
        await mgmt.upsertCredentialWithTargets({ clientId, track: 'http', op: existing ? 'credential.update' : 'credential.create', secretPlain: `plain-${i}`, expiresAt: null, targets: T })
        await auth.clients.setSecretHash(clientId, hashClientSecret(`plain-${i}`, 'pepper'))
      }
    }
    res[kind].push(now() - t0)
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]
console.log(JSON.stringify({ N, ROUNDS, oursMs: med(res.ours), jsStepsMs: med(res.js), ours: res.ours.map(Math.round), js: res.js.map(Math.round) }))
await prop.close()
const keys = []
for await (const k of c.scanIterator({ MATCH: `*${run}*`, COUNT: 1000 })) keys.push(k)
for (let i = 0; i < keys.length; i += 500) await c.del(keys.slice(i, i + 500))
await c.quit()
