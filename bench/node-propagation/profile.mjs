// Where the time of propagation goes (ours): the scenario of propagation.mjs (one authority,
// two targets, N credentials ensured, then ONE sync until every ACK is handled), with
//   - every JS↔Rust hand-off counted by op (the addon's dispatcher calls: each is one
//     threadsafe-function call into JavaScript and one Promise resolution back),
//   - every Redis command counted by database (authority / target 1 / target 2) and name,
//     through a MONITOR connection (other clients of the server are not counted: the
//     databases are this script's),
//   - CPU time of the phases: this process's JavaScript thread, its other threads (tokio,
//     lapin I/O), and, when /proc lets us read them, the broker's and Redis's.
// Usage: node bench/node-propagation/profile.mjs (PROFILE_N=500, PROFILE_URL=1 for the
// redis:// URL variant). Prints per-credential counts and CPU milliseconds.
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { connect } from 'node:net'
import amqp from 'amqplib'
import { createClient } from 'redis'
import { initializeHmacHttpAuth } from '@authcore/node-hmac-auth-core'
import * as ours from '@authcore/node-hmac-auth-core-propagation'
import { buildQueueName } from './original.mjs'
import { MemoryManagement } from './management.mjs'

const N = Number(process.env.PROFILE_N ?? 500)
const URL_MODE = process.env.PROFILE_URL === '1'
const REDIS = '127.0.0.1:6379'
const DBS = [11, 12, 13]
const ROLES = ['authority', 'target1', 'target2']
const now = () => performance.now()

// ---- hand-offs: wrap the batch runner the drop-in gives the addon (one threadsafe-function
// call per batch; each call in it is answered by one synchronous reply into the addon)
const require = createRequire(import.meta.url)
const native = require('@authcore/native')
const handoffs = new Map()
let batches = 0
let counting = false
const Dispatch = native.PropagationDispatch
if (Dispatch) {
  native.PropagationDispatch = function (runBatch) {
    return new Dispatch((json) => {
      if (counting) {
        batches++
        for (const [, op] of JSON.parse(json)) handoffs.set(op, (handoffs.get(op) ?? 0) + 1)
      }
      return runBatch(json)
    })
  }
} else {
  // an addon with one threadsafe-function call (and one Promise back) per call
  const create = native.createPropagator
  native.createPropagator = (options, host, dispatch) =>
    create.call(native, options, host, (op, args) => {
      if (counting) {
        batches++
        handoffs.set(op, (handoffs.get(op) ?? 0) + 1)
      }
      return dispatch(op, args)
    })
}

// ---- Redis commands, per database
const commands = new Map()
const monitor = connect(6379, '127.0.0.1')
let pending = ''
monitor.setEncoding('utf8')
monitor.on('data', (chunk) => {
  const lines = (pending + chunk).split('\r\n')
  pending = lines.pop()
  if (!counting) return
  for (const line of lines) {
    const m = /^\+\S+ \[(\d+) [^\]]+\] "([^"]+)"/.exec(line)
    if (!m || !DBS.includes(Number(m[1]))) continue
    const key = `${ROLES[DBS.indexOf(Number(m[1]))]} ${m[2].toUpperCase()}`
    commands.set(key, (commands.get(key) ?? 0) + 1)
  }
})
await new Promise((r) => monitor.write('MONITOR\r\n', r))

// ---- CPU of threads and processes (ms)
const TICK = 100 // USER_HZ
function ticksOf(path) {
  try {
    const f = readFileSync(path, 'utf8').split(') ')[1].split(' ')
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICK
  } catch {
    return NaN
  }
}
function pidOf(name) {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === name) return p
    } catch {}
  }
  return null
}
const beam = pidOf('beam.smp')
const redisPid = pidOf('redis-server')
function cpu() {
  let others = 0
  for (const t of readdirSync('/proc/self/task')) if (t !== String(process.pid)) others += ticksOf(`/proc/self/task/${t}/stat`)
  return {
    js: ticksOf(`/proc/self/task/${process.pid}/stat`),
    nativeThreads: others,
    rabbitmq: beam ? ticksOf(`/proc/${beam}/stat`) : NaN,
    redis: redisPid ? ticksOf(`/proc/${redisPid}/stat`) : NaN,
  }
}
const diff = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, +(b[k] - a[k]).toFixed(0)]))

// ---- the scenario
const clients = {}
for (const [i, role] of ROLES.entries()) {
  clients[role] = createClient({ url: `redis://${REDIS}/${DBS[i]}` })
  await clients[role].connect()
}
const sfx = randomBytes(3).toString('hex')
const A = `qa-${sfx}`
const T = [`qb-${sfx}`, `qc-${sfx}`]
const secret = (q) => `secret-of-${q}`
const directory = { [A]: secret(A), [T[0]]: secret(T[0]), [T[1]]: secret(T[1]) }
const redisOf = (role) => (URL_MODE ? `redis://${REDIS}/${DBS[ROLES.indexOf(role)]}` : clients[role])
const authOf = (role) =>
  initializeHmacHttpAuth({ redis: redisOf(role), namespace: `hmac:http:profile-${sfx}-${role}`, secretToken: `pepper-${role}` })
const AMQP = { amqpHost: '127.0.0.1', amqpPort: 5672, amqpUser: 'guest', amqpPassword: 'guest', amqpProtocol: 'amqp' }

let applied = 0
let acked = 0
let done
const finished = new Promise((r) => (done = r))
const check = () => applied === 2 * N && acked === 2 * N && done()
const counted = (auth) => ({
  secretToken: auth.secretToken,
  namespace: auth.namespace,
  clients: {
    get: (id) => auth.clients.get(id),
    delete: (id) => auth.clients.delete(id),
    setSecretHash: async (...a) => {
      await auth.clients.setSecretHash(...a)
      applied++
      check()
    },
  },
})
const peers = []
for (const [k, q] of T.entries()) {
  peers.push(
    await ours.createPropagator({
      ...AMQP,
      amqpQueue: q,
      propagationSecret: secret(q),
      redis: redisOf(ROLES[k + 1]),
      hmacHttpAuth: counted(authOf(ROLES[k + 1])),
      management: new MemoryManagement(directory),
    }),
  )
}
const mgmt = new MemoryManagement(directory, { onResult: () => (acked++, check()) })
const authority = await ours.createPropagator({
  ...AMQP,
  amqpQueue: A,
  propagationSecret: secret(A),
  redis: redisOf('authority'),
  hmacHttpAuth: authOf('authority'),
  management: mgmt,
  logger: { info() {}, warn() {}, error() {} },
})
peers.push(authority)
// warm-up: the queues declared, the connections busy once
await authority.ensure({ clientId: `w-${sfx}`, secret: 'w', targets: T })
await authority.sync()
await new Promise((r) => setTimeout(r, 300))
applied = 0
acked = 0

function report(title, ms, c0, c1) {
  const per = (v) => (v / N).toFixed(2)
  console.log(`\n== ${title}: ${ms.toFixed(0)} ms for ${N} credentials (${((N / ms) * 1000).toFixed(0)}/s)`)
  const cpuMs = diff(c0, c1)
  console.log(`CPU ms: ${JSON.stringify(cpuMs)} (per credential, µs: ${Object.entries(cpuMs).map(([k, v]) => `${k} ${((v / N) * 1000).toFixed(0)}`).join(', ')})`)
  const h = [...handoffs].sort((a, b) => b[1] - a[1])
  console.log(`JS<->Rust hand-offs: ${h.reduce((s, [, v]) => s + v, 0)} calls (${per(h.reduce((s, [, v]) => s + v, 0))}/credential) in ${batches} batches (${per(batches)}/credential): ${h.map(([k, v]) => `${k} ${per(v)}`).join(', ')}`)
  const byRole = {}
  for (const [k, v] of commands) {
    const [role, cmd] = k.split(' ')
    ;(byRole[role] ??= []).push([cmd, v])
  }
  for (const [role, list] of Object.entries(byRole)) {
    list.sort((a, b) => b[1] - a[1])
    console.log(`Redis ${role}: ${per(list.reduce((s, [, v]) => s + v, 0))}/credential: ${list.map(([k, v]) => `${k} ${per(v)}`).join(', ')}`)
  }
  handoffs.clear()
  batches = 0
  commands.clear()
}

const ids = Array.from({ length: N }, (_, i) => `c${i}-${sfx}`)
counting = true
let c0 = cpu()
let t0 = now()
for (const [i, clientId] of ids.entries()) await authority.ensure({ clientId, secret: `plain-${i}`, targets: T })
await new Promise((r) => setTimeout(r, 50))
report('ensure', now() - t0, c0, cpu())

c0 = cpu()
t0 = now()
const s = await authority.sync()
const syncMs = now() - t0
await finished
const endMs = now() - t0
await new Promise((r) => setTimeout(r, 50))
console.log(`\nsync resolved after ${syncMs.toFixed(0)} ms (${JSON.stringify(s)})`)
report('sync -> every ACK handled', endMs, c0, cpu())
counting = false

await Promise.allSettled(peers.map((p) => p.close()))
const conn = await amqp.connect({ hostname: '127.0.0.1', username: 'guest', password: 'guest', vhost: 'hmac-credentials' })
const ch = await conn.createChannel()
for (const q of [A, ...T]) await ch.deleteQueue(buildQueueName(q)).catch(() => {})
await conn.close()
for (const role of ROLES) {
  const keys = []
  for await (const k of clients[role].scanIterator({ MATCH: `*${sfx}*`, COUNT: 1000 })) keys.push(k)
  for (let i = 0; i < keys.length; i += 500) await clients[role].del(keys.slice(i, i + 500))
  await clients[role].quit()
}
monitor.destroy()
process.exit(0)
