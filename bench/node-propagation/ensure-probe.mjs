// Where the time of ensure() goes: N sequential ensures of new clients on one authority, for
//   orig    the faithful original (./original.mjs: clients.get, upsert, setSecretHash),
//   jsread  the original's steps plus one HGETALL of the outstanding-events key sent next to
//           clients.get (the read our ensure makes; what it costs when pipelined),
//   jsnapi  jsread plus the addon's ensureStart/ensureRead/ensureEnd on a real propagator
//           (what the three calls into the addon cost in place),
//   native  ours, node-redis client, state over the confirmed native connection (default),
//   client  ours, `nativeRedis: false` (every state command through the client object),
// interleaved rounds, medians; per ensure the CPU time of the JS thread, of the process's
// other threads and of redis-server (from /proc). KINDS=orig,native (default: all), N, ROUNDS.
// Run with the release addon: NAPI_RS_NATIVE_LIBRARY_PATH (see run.sh).
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { execSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { createClient } from 'redis'
import { hashClientSecret, initializeHmacHttpAuth } from '@authcore/node-hmac-auth-core'
import * as original from './original.mjs'
import { MemoryManagement } from './management.mjs'

// The addon's propagator handle, for jsnapi.
const native = createRequire(import.meta.url)('@authcore/native')
let lastHandle
const createNative = native.createPropagator
native.createPropagator = async (...a) => (lastHandle = await createNative(...a))
const ours = await import('@authcore/node-hmac-auth-core-propagation')

const N = Number(process.env.N ?? 500)
const ROUNDS = Number(process.env.ROUNDS ?? 9)
const KINDS = (process.env.KINDS ?? 'orig,jsread,jsnapi,native,client').split(',')
const now = () => performance.now()
const redisPid = Number(execSync('pgrep -x redis-server').toString().trim().split('\n')[0])
const ticks = (stat) => {
  const f = stat.split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) * 10 // ms (USER_HZ 100)
}
const cpuNow = () => {
  let js = 0
  let other = 0
  for (const t of readdirSync('/proc/self/task')) {
    const v = ticks(readFileSync(`/proc/self/task/${t}/stat`, 'utf8'))
    if (Number(t) === process.pid) js += v
    else other += v
  }
  return { js, other, redis: ticks(readFileSync(`/proc/${redisPid}/stat`, 'utf8')) }
}

const c = createClient({ url: 'redis://127.0.0.1:6379/11' })
await c.connect()
const run = randomBytes(3).toString('hex')
const AMQP = { amqpHost: '127.0.0.1', amqpPort: 5672, amqpUser: 'guest', amqpPassword: 'guest', amqpProtocol: 'amqp' }
const authOf = (k) => initializeHmacHttpAuth({ redis: c, namespace: `hmac:http:probe-${run}-${k}`, secretToken: 'pepper' })
const propagatorOf = (mod, k, extra = {}) =>
  mod.createPropagator({ ...AMQP, amqpQueue: `probe-${run}-${k}`, propagationSecret: 's', redis: c, hmacHttpAuth: authOf(k), management: new MemoryManagement({}), ...extra })

/** The original's steps from JS, with the outstanding read and the addon's calls when asked. */
function stepsOf(k, handle) {
  const auth = authOf(k)
  const m = new MemoryManagement({})
  return async ({ clientId, secret, targets }) => {
    const s = handle ? handle.ensureStart(clientId, secret, targets, undefined, undefined, undefined) : null
    const get = auth.clients.get(clientId)
    const read = c.hGetAll(`propagation:client-outstanding:${clientId}`)
    const existing = await get
    const outstanding = await read
    if (handle) handle.ensureRead(s.ticket, outstanding, null)
    await m.upsertCredentialWithTargets({ clientId, track: 'http', op: existing ? 'credential.update' : 'credential.create', secretPlain: secret, expiresAt: null, targets })
    await auth.clients.setSecretHash(clientId, handle ? s.secretHash : hashClientSecret(secret, 'pepper'))
    if (handle) handle.ensureEnd(s.ticket)
  }
}

const ensureOf = {}
const closers = []
for (const k of KINDS) {
  if (k === 'orig' || k === 'native' || k === 'client') {
    const p = await propagatorOf(k === 'orig' ? original : ours, k, k === 'client' ? { nativeRedis: false } : {})
    closers.push(() => p.close())
    ensureOf[k] = (x) => p.ensure(x)
  } else if (k === 'jsread') {
    ensureOf[k] = stepsOf(k, null)
  } else if (k === 'jsnapi') {
    const p = await propagatorOf(ours, k)
    closers.push(() => p.close())
    ensureOf[k] = stepsOf(k, lastHandle)
  } else throw new Error(`unknown kind ${k}`)
}

const T = ['t1', 't2']
const wall = Object.fromEntries(KINDS.map((k) => [k, []]))
const cpu = Object.fromEntries(KINDS.map((k) => [k, { js: 0, other: 0, redis: 0 }]))
for (let r = 0; r < ROUNDS; r++) {
  for (let j = 0; j < KINDS.length; j++) {
    const k = KINDS[(j + r) % KINDS.length]
    const ids = Array.from({ length: N }, (_, i) => `${k}${r}-${i}-${run}`)
    const c0 = cpuNow()
    const t0 = now()
    for (const [i, clientId] of ids.entries()) await ensureOf[k]({ clientId, secret: `plain-${i}`, targets: T })
    wall[k].push(now() - t0)
    const c1 = cpuNow()
    if (r > 0) for (const part of ['js', 'other', 'redis']) cpu[k][part] += c1[part] - c0[part]
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1]
const perEnsure = (v) => Math.round((v * 1000) / (N * (ROUNDS - 1)))
console.log(`ensure x${N}, ${ROUNDS} interleaved rounds (the first not counted in CPU), load ${(await import('node:os')).loadavg()[0].toFixed(2)}`)
for (const k of KINDS) {
  console.log(
    `${k.padEnd(7)} median ${med(wall[k]).toFixed(1)} ms; CPU µs per ensure: JS thread ${perEnsure(cpu[k].js)}, other threads ${perEnsure(cpu[k].other)}, redis-server ${perEnsure(cpu[k].redis)}; runs ${wall[k].map(Math.round).join(' ')}`,
  )
}
for (const close of closers) await close()
const keys = []
for await (const k of c.scanIterator({ MATCH: `*${run}*`, COUNT: 1000 })) keys.push(k)
for (let i = 0; i < keys.length; i += 500) await c.del(keys.slice(i, i + 500))
await c.quit()
process.exit(0)
