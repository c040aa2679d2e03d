// Credential propagation end to end over the real RabbitMQ (127.0.0.1:5672, vhost
// hmac-credentials) and Redis (127.0.0.1:6379): our @authcore/node-hmac-auth-core-propagation
// side by side with a faithful JS reimplementation of @naskot/node-hmac-auth-core-propagation
// 1.0.0 (./original.mjs: amqplib + node-redis v4, spec /work/shared/specs/naskot-propagation.md).
//
// Scenario, identical for every implementation: one full-mode authority and two full-mode
// targets in this one Node process (each peer has its own connection, own Redis database
// (the propagation keys sit at the Redis root), own core namespace and pepper), an
// in-memory publish-once management adapter (./management.mjs), N credentials ensured on
// the authority (targets: both peers), then ONE sync(). Measured from the start of sync():
//   sync      sync() resolved (publish side)
//   applied   every target has applied every credential (its auth.clients.setSecretHash resolved)
//   acked     every ACK handled on the authority (2N: markTargetSuccess, or dropped as naming an
//             unknown eventId, the original's race) and the last markCredentialFullyPropagated
// plus the ensure loop before it, the process CPU time (user+sys, all threads) from sync to
// acked, and a receive microbench: a target started on a queue pre-filled with N apply events.
//
// The role of @naskot/node-hmac-auth-core (the peers' auth instances) is played by our
// drop-in @authcore/node-hmac-auth-core for every implementation, over one node-redis
// client per peer shared with the propagation state (as the original's README does), except
// in the "redis:// URL" variant, where both get a URL and the Rust core talks to Redis.
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import amqp from 'amqplib'
import { createClient } from 'redis'
import { hashClientSecret, initializeHmacHttpAuth } from '@authcore/node-hmac-auth-core'
import * as ours from '@authcore/node-hmac-auth-core-propagation'
import * as original from './original.mjs'
import { MemoryManagement } from './management.mjs'
import { percentile, table, writeResults } from '../common.mjs'

const N = Number(process.env.BENCH_PROP_N ?? 500)
const ROUNDS = Number(process.env.BENCH_PROP_ROUNDS ?? 5)
const WARM_N = Number(process.env.BENCH_PROP_WARM_N ?? 50)
// Samples of the latency scenario (ensure + sync of one credential until every target holds it), per round.
const LAT_N = Number(process.env.BENCH_PROP_LATENCY_N ?? 100)
const REDIS = process.env.BENCH_PROP_REDIS ?? '127.0.0.1:6379'
// One database per peer role (authority, target 1, target 2); not used by the tests (0-2).
const DBS = (process.env.BENCH_PROP_DBS ?? '11,12,13').split(',').map(Number)
const AMQP = { amqpHost: '127.0.0.1', amqpPort: 5672, amqpUser: 'guest', amqpPassword: 'guest', amqpProtocol: 'amqp' }
const VHOST = 'hmac-credentials'
const NATIVE = process.env.NAPI_RS_NATIVE_LIBRARY_PATH ? 'release (bench-fast profile)' : 'debug'
const RUN = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`

const ALL_IMPLS = [
  { name: 'original (faithful JS: amqplib, node-redis)', mod: original, url: false },
  // Default: the probe confirms the client's Redis and the state goes over a native connection.
  { name: 'ours: drop-in (node-redis client)', mod: ours, url: false },
  // Every Redis command of the state through the client object (hops into JS).
  { name: 'ours: drop-in (node-redis client, nativeRedis: false)', mod: ours, url: false, extra: { nativeRedis: false } },
  { name: 'ours: redis:// URL', mod: ours, url: true },
]
// BENCH_PROP_IMPLS: indexes into the list above to run (default: all), e.g. `0,3`; the first
// one listed is the baseline of the ratios. BENCH_PROP_PARTS: which measurements to run
// (default `scenario,drain,latency`).
const IMPLS = (process.env.BENCH_PROP_IMPLS ?? ALL_IMPLS.map((_, i) => i).join(','))
  .split(',')
  .map((i) => ALL_IMPLS[Number(i)])
const PARTS = new Set((process.env.BENCH_PROP_PARTS ?? 'scenario,drain,latency').split(','))

const now = () => performance.now()
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const ROLES = ['authority', 'target1', 'target2']

// ------------------------------------------------------------------ shared connections

const redis = {}
for (const [i, role] of ROLES.entries()) {
  const c = createClient({ url: `redis://${REDIS}/${DBS[i]}`, socket: { reconnectStrategy: false } })
  c.on('error', (e) => console.error(`redis ${role}:`, e.message))
  await c.connect()
  redis[role] = c
}
const adminConn = await amqp.connect({ protocol: 'amqp', hostname: AMQP.amqpHost, port: AMQP.amqpPort, username: 'guest', password: 'guest', vhost: VHOST })
const admin = await adminConn.createConfirmChannel()

// Auth instances: one per (implementation, role), reused across runs (client ids are unique per run).
const authCache = new Map()
const nsOf = (implIndex, role) => `hmac:http:bench-prop-${RUN}-${implIndex}-${role}`
const pepperOf = (implIndex, role) => `pepper-${implIndex}-${role}`
function authFor(implIndex, role) {
  const key = `${implIndex} ${role}`
  if (!authCache.has(key)) {
    const db = DBS[ROLES.indexOf(role)]
    const store = IMPLS[implIndex].url ? `redis://${REDIS}/${db}` : redis[role]
    authCache.set(key, initializeHmacHttpAuth({ redis: store, namespace: nsOf(implIndex, role), secretToken: pepperOf(implIndex, role) }))
  }
  return authCache.get(key)
}

/** The same auth instance, with each resolved setSecretHash reported to `onApply(clientId)` (both implementations call only get/setSecretHash/delete and read secretToken). */
function counting(auth, onApply) {
  return {
    secretToken: auth.secretToken,
    namespace: auth.namespace,
    clients: {
      get: (id) => auth.clients.get(id),
      delete: (id) => auth.clients.delete(id),
      setSecretHash: async (...args) => {
        await auth.clients.setSecretHash(...args)
        onApply(args[0])
      },
    },
  }
}

/** A promise resolved by `tick()` once it was called `n` times; `at` is the time of the n-th call. */
function countdown(n) {
  const c = { count: 0, first: 0, at: 0 }
  c.done = new Promise((resolve) => {
    c.tick = () => {
      c.count += 1
      if (c.count === 1) c.first = now()
      if (c.count === n) {
        c.at = now()
        resolve()
      }
    }
  })
  return c
}

async function within(ms, what, promise, state) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}: ${state()}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function deleteKeys(client, pattern) {
  const keys = []
  for await (const k of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) keys.push(k)
  for (let i = 0; i < keys.length; i += 1000) await client.del(keys.slice(i, i + 1000))
}

/** Every credential of `ids` is on `role`'s core store with `hash(i)`; returns the number that are. */
async function countStored(implIndex, role, ids, hash) {
  const raw = await redis[role].hmGet(`${nsOf(implIndex, role)}:clients`, ids)
  let ok = 0
  raw.forEach((r, i) => {
    if (r && JSON.parse(r).secretHash === hash(i)) ok += 1
  })
  return ok
}

async function forgetClients(implIndex, ids) {
  for (const role of ROLES) {
    await redis[role].hDel(`${nsOf(implIndex, role)}:clients`, ids)
  }
}

// ------------------------------------------------------------------ scenario: ensure + ONE sync

async function scenario(implIndex, n) {
  const impl = IMPLS[implIndex]
  const sfx = `${RUN}${randomBytes(3).toString('hex')}`
  const A = `pa-${sfx}`
  const T = [`pb-${sfx}`, `pc-${sfx}`]
  const secret = (q) => `secret-of-${q}`
  const directory = { [A]: secret(A), [T[0]]: secret(T[0]), [T[1]]: secret(T[1]) }
  const redisOf = (role) => (impl.url ? `redis://${REDIS}/${DBS[ROLES.indexOf(role)]}` : redis[role])

  const applied = [countdown(n), countdown(n)]
  // Every ACK handled on the authority: a result recorded (markTargetSuccess/Error), or the
  // ACK dropped as naming an unknown eventId (spec §7: an ACK that arrives before
  // recordPublishedEvent finished; the original records after the publish confirm).
  const acks = countdown(2 * n)
  const fully = countdown(n)
  let lastFullyAt = 0
  let ackUnknown = 0
  const mgmtA = new MemoryManagement(directory, {
    onResult: () => acks.tick(),
    onFully: (i) => {
      lastFullyAt = now()
      if (!seenFully.has(i.clientId)) {
        seenFully.add(i.clientId)
        fully.tick()
      }
    },
  })
  const seenFully = new Set()
  const warn = (...args) => {
    if (String(args[0]).includes('received ack for unknown eventId')) {
      ackUnknown += 1
      acks.tick()
    }
  }
  const authorityLogger = { info: () => {}, warn, error: () => {} }

  const peers = []
  try {
    for (const [k, q] of T.entries()) {
      const role = ROLES[k + 1]
      peers.push(
        await impl.mod.createPropagator({
          ...AMQP,
          amqpQueue: q,
          propagationSecret: secret(q),
          redis: redisOf(role),
          ...impl.extra,
          hmacHttpAuth: counting(authFor(implIndex, role), applied[k].tick),
          management: new MemoryManagement(directory),
        }),
      )
    }
    const authority = await impl.mod.createPropagator({
      ...AMQP,
      amqpQueue: A,
      propagationSecret: secret(A),
      redis: redisOf('authority'),
      ...impl.extra,
      hmacHttpAuth: authFor(implIndex, 'authority'),
      management: mgmtA,
      logger: authorityLogger,
    })
    peers.push(authority)

    const ids = Array.from({ length: n }, (_, i) => `c${i}-${sfx}`)
    const te = now()
    for (const [i, clientId] of ids.entries()) await authority.ensure({ clientId, secret: `plain-${i}`, targets: T })
    const ensureMs = now() - te

    const cpu0 = process.cpuUsage()
    const t0 = now()
    const summary = await authority.sync()
    const syncMs = now() - t0
    const state = () =>
      `applied ${applied[0].count}+${applied[1].count}/${2 * n}, ACKs ${acks.count}/${2 * n}, fully ${fully.count}/${n}`
    await within(30000 + 100 * n, 'propagation', Promise.all([applied[0].done, applied[1].done, acks.done]), state)
    const cpu = process.cpuUsage(cpu0)
    // The last ACK's handling ends with markCredentialFullyPropagated; a credential with a
    // lost ACK is never reported (give it a grace period, then count it as lost).
    await within(300, 'fully propagated', fully.done, state).catch(() => {})
    const appliedMs = Math.max(applied[0].at, applied[1].at) - t0
    const ackedMs = Math.max(acks.at, lastFullyAt) - t0
    const cpuMs = (cpu.user + cpu.system) / 1000

    // Correctness: every target holds the authority's hash (shipped, never recomputed).
    const pepperA = pepperOf(implIndex, 'authority')
    const hash = (i) => hashClientSecret(`plain-${i}`, pepperA)
    const stored = [await countStored(implIndex, 'target1', ids, hash), await countStored(implIndex, 'target2', ids, hash)]
    const problems = []
    if (summary.propagationsRead !== n || summary.targetsPublished !== 2 * n || summary.targetsRetrying !== 0) problems.push(`sync summary ${JSON.stringify(summary)}`)
    if (stored[0] !== n || stored[1] !== n) problems.push(`stored ${stored}`)
    if (mgmtA.counts.success + ackUnknown !== 2 * n || mgmtA.counts.error !== 0) problems.push(`ACK results ${JSON.stringify(mgmtA.counts)}`)
    if (problems.length) throw new Error(`${impl.name}: ${problems.join('; ')}`)

    await forgetClients(implIndex, ids)
    return {
      ensureMs,
      syncMs,
      appliedMs,
      ackedMs,
      credentialsPerSecond: (n / ackedMs) * 1000,
      cpuMs,
      cpuPercent: (cpuMs / ackedMs) * 100,
      syncDurationMsReported: summary.durationMs,
      fullyCalls: mgmtA.counts.fully,
      fullyEarly: mgmtA.counts.fullyEarly,
      acksDroppedUnknown: ackUnknown,
      credentialsNeverFullyPropagated: n - seenFully.size,
      rowsLeftSent: mgmtA.rowsLeftSent(),
    }
  } finally {
    await Promise.allSettled(peers.map((p) => p.close()))
    for (const q of [A, ...T]) await admin.deleteQueue(original.buildQueueName(q)).catch(() => {})
    for (const role of ROLES) await deleteKeys(redis[role], `propagation:*${sfx}`)
    // ack records of events whose ACK was dropped (the original's race): clientId of this run
    for await (const k of redis.authority.scanIterator({ MATCH: 'propagation:ack:*', COUNT: 1000 })) {
      if ((await redis.authority.hGet(k, 'clientId'))?.endsWith(sfx)) await redis.authority.del(k)
    }
  }
}

// ------------------------------------------------------------------ latency: ensure + sync of one credential until usable at every target

/**
 * `samples` times, one after the other: ensure one new credential on the authority, sync,
 * and wait until both targets applied it (their setSecretHash resolved: the credential is
 * usable there). ACKs of earlier samples are handled meanwhile, as in production.
 * Returns the per-sample latencies in ms.
 */
async function latency(implIndex, samples) {
  const impl = IMPLS[implIndex]
  const sfx = `${RUN}${randomBytes(3).toString('hex')}`
  const A = `pl-${sfx}`
  const T = [`pm-${sfx}`, `pn-${sfx}`]
  const secret = (q) => `secret-of-${q}`
  const directory = { [A]: secret(A), [T[0]]: secret(T[0]), [T[1]]: secret(T[1]) }
  const redisOf = (role) => (impl.url ? `redis://${REDIS}/${DBS[ROLES.indexOf(role)]}` : redis[role])
  /** clientId -> { left, resolve } */
  const waiting = new Map()
  const onApply = (clientId) => {
    const w = waiting.get(clientId)
    if (w && --w.left === 0) w.resolve()
  }
  const peers = []
  const ids = []
  try {
    for (const [k, q] of T.entries()) {
      const role = ROLES[k + 1]
      peers.push(
        await impl.mod.createPropagator({
          ...AMQP,
          amqpQueue: q,
          propagationSecret: secret(q),
          redis: redisOf(role),
          ...impl.extra,
          hmacHttpAuth: counting(authFor(implIndex, role), onApply),
          management: new MemoryManagement(directory),
        }),
      )
    }
    const authority = await impl.mod.createPropagator({
      ...AMQP,
      amqpQueue: A,
      propagationSecret: secret(A),
      redis: redisOf('authority'),
      ...impl.extra,
      hmacHttpAuth: authFor(implIndex, 'authority'),
      management: new MemoryManagement(directory),
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    })
    peers.push(authority)
    const out = []
    for (let i = 0; i < samples; i++) {
      const clientId = `l${i}-${sfx}`
      ids.push(clientId)
      const usable = new Promise((resolve) => waiting.set(clientId, { left: T.length, resolve }))
      const t0 = now()
      await authority.ensure({ clientId, secret: `plain-${i}`, targets: T })
      await authority.sync()
      await within(10000, 'a credential to be usable at every target', usable, () => `sample ${i}`)
      out.push(now() - t0)
      waiting.delete(clientId)
    }
    await sleep(200) // the last ACKs
    return out
  } finally {
    await Promise.allSettled(peers.map((p) => p.close()))
    for (const q of [A, ...T]) await admin.deleteQueue(original.buildQueueName(q)).catch(() => {})
    for (const role of ROLES) await deleteKeys(redis[role], `propagation:*${sfx}`)
    await forgetClients(implIndex, ids)
  }
}

// ------------------------------------------------------------------ floor: the broker alone

/** 2n sequential persistent publishes with a confirm each (amqplib), as sync's publish steps do. */
async function brokerFloor(n) {
  const q = original.buildQueueName(`pf-${RUN}${randomBytes(3).toString('hex')}`)
  await admin.assertQueue(q, { durable: true })
  const body = Buffer.from('x'.repeat(420))
  try {
    const t0 = now()
    for (let i = 0; i < 2 * n; i++) {
      await new Promise((resolve, reject) => admin.publish('', q, body, { persistent: true, contentType: 'application/json' }, (e) => (e ? reject(e) : resolve())))
    }
    return now() - t0
  } finally {
    await admin.deleteQueue(q).catch(() => {})
  }
}

// ------------------------------------------------------------------ receive microbench: drain a pre-filled queue

async function drain(implIndex, n) {
  const impl = IMPLS[implIndex]
  const sfx = `${RUN}${randomBytes(3).toString('hex')}`
  const target = `pd-${sfx}`
  const sender = `ps-${sfx}` // no propagator: its queue only collects the target's ACKs
  const targetQueue = original.buildQueueName(target)
  const senderQueue = original.buildQueueName(sender)
  const ids = Array.from({ length: n }, (_, i) => `d${i}-${sfx}`)
  const hash = (i) => hashClientSecret(`plain-${i}`, 'pepper-of-sender')
  let p
  try {
    await admin.assertQueue(targetQueue, { durable: true })
    await admin.assertQueue(senderQueue, { durable: true })
    const ts = Date.now()
    for (const [i, clientId] of ids.entries()) {
      const body = original.encodeApplyEvent({
        eventId: crypto.randomUUID(),
        ts: ts + i,
        propagationSecret: `secret-of-${target}`,
        senderAmqpQueue: sender,
        op: 'credential.create',
        track: 'http',
        clientId,
        payload: { secretHash: hash(i), expiresAt: null },
      })
      admin.publish('', targetQueue, Buffer.from(body), { persistent: true, contentType: 'application/json' })
    }
    await admin.waitForConfirms()

    const applied = countdown(n)
    const cpu0 = process.cpuUsage()
    const t0 = now()
    p = await impl.mod.createPropagator({
      ...AMQP,
      amqpQueue: target,
      propagationSecret: `secret-of-${target}`,
      redis: impl.url ? `redis://${REDIS}/${DBS[1]}` : redis.target1,
      ...impl.extra,
      hmacHttpAuth: counting(authFor(implIndex, 'target1'), applied.tick),
      management: new MemoryManagement({ [sender]: `secret-of-${sender}` }),
    })
    const startMs = now() - t0
    await within(30000 + 100 * n, 'the drain', applied.done, () => `applied ${applied.count}/${n}`)
    const totalMs = applied.at - t0
    const cpu = process.cpuUsage(cpu0)

    // Every event applied and ACKed (the ACK is published before the delivery is acked).
    let acks = 0
    for (let i = 0; i < 200 && acks < n; i++) {
      acks = (await admin.checkQueue(senderQueue)).messageCount
      if (acks < n) await sleep(10)
    }
    const stored = await countStored(implIndex, 'target1', ids, hash)
    if (acks !== n || stored !== n) throw new Error(`${impl.name} drain: ${acks} ACKs, ${stored} stored of ${n}`)
    await forgetClients(implIndex, ids)
    return {
      totalMs,
      startMs,
      eventsPerSecond: ((n - 1) / (applied.at - applied.first)) * 1000,
      perEventMs: (applied.at - applied.first) / (n - 1),
      cpuMs: (cpu.user + cpu.system) / 1000,
    }
  } finally {
    await p?.close().catch(() => {})
    await admin.deleteQueue(targetQueue).catch(() => {})
    await admin.deleteQueue(senderQueue).catch(() => {})
    await deleteKeys(redis.target1, `propagation:*${sfx}`)
  }
}

// ------------------------------------------------------------------ runs

function stats(values) {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1], runs: values }
}

console.log(`propagation bench: N=${N}, ${ROUNDS} rounds, addon build: ${NATIVE}`)
for (const i of IMPLS.keys()) {
  if (PARTS.has('scenario')) await scenario(i, WARM_N)
  if (PARTS.has('drain')) await drain(i, WARM_N)
  if (PARTS.has('latency')) await latency(i, 10)
}

const raw = IMPLS.map(() => ({ scenario: [], drain: [], latency: [] }))
const floorRuns = []
for (let r = 0; r < ROUNDS && PARTS.has('scenario'); r++) {
  floorRuns.push(await brokerFloor(N))
  // rotate the order each round so drift (other load on the box) spreads evenly
  for (let k = 0; k < IMPLS.length; k++) {
    const i = (k + r) % IMPLS.length
    const s = await scenario(i, N)
    raw[i].scenario.push(s)
    console.log(`  round ${r + 1} ${IMPLS[i].name}: sync ${s.syncMs.toFixed(0)} ms, applied ${s.appliedMs.toFixed(0)} ms, acked ${s.ackedMs.toFixed(0)} ms`)
  }
}
for (let r = 0; r < ROUNDS && PARTS.has('drain'); r++) {
  for (let k = 0; k < IMPLS.length; k++) {
    const i = (k + r) % IMPLS.length
    const d = await drain(i, N)
    raw[i].drain.push(d)
    console.log(`  round ${r + 1} ${IMPLS[i].name}: drain ${d.totalMs.toFixed(0)} ms (${d.eventsPerSecond.toFixed(0)} events/s)`)
  }
}

for (let r = 0; r < ROUNDS && PARTS.has('latency'); r++) {
  for (let k = 0; k < IMPLS.length; k++) {
    const i = (k + r) % IMPLS.length
    const l = await latency(i, LAT_N)
    raw[i].latency.push(...l)
    const sorted = [...l].sort((a, b) => a - b)
    console.log(`  round ${r + 1} ${IMPLS[i].name}: latency p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`)
  }
}

const pick = (list, key) => stats(list.map((x) => x[key]))
/** Percentiles over every sample of every round. */
const latencyOf = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return { samples: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] }
}

// A partial run (BENCH_PROP_IMPLS / BENCH_PROP_PARTS): medians on stdout (and as JSON in
// BENCH_PROP_OUT when set); the results file is left alone.
if (PARTS.size < 3 || IMPLS.length < ALL_IMPLS.length) {
  const partial = IMPLS.map((impl, i) => {
    const r = { impl: impl.name }
    if (raw[i].scenario.length) for (const k of ['ensureMs', 'syncMs', 'appliedMs', 'ackedMs', 'credentialsPerSecond', 'cpuMs']) r[k] = pick(raw[i].scenario, k)
    if (raw[i].drain.length) for (const k of ['totalMs', 'eventsPerSecond', 'cpuMs']) r[`drain.${k}`] = pick(raw[i].drain, k)
    if (raw[i].latency.length) r.latencyMs = { ...latencyOf(raw[i].latency), all: raw[i].latency }
    return r
  })
  for (const r of partial) {
    const line = Object.entries(r)
      .filter(([k]) => k !== 'impl')
      .map(([k, v]) => (k === 'latencyMs' ? `latency p50 ${v.p50.toFixed(1)} p99 ${v.p99.toFixed(1)} ms` : `${k} ${v.median.toFixed(1)} (${v.min.toFixed(0)}-${v.max.toFixed(0)})`))
    console.log(`${r.impl}: ${line.join(', ')}`)
  }
  if (process.env.BENCH_PROP_OUT) (await import('node:fs')).writeFileSync(process.env.BENCH_PROP_OUT, JSON.stringify({ n: N, rounds: ROUNDS, loadAverage1m: (await import('node:os')).loadavg()[0], results: partial }, null, 2))
  for (const role of ROLES) await deleteKeys(redis[role], `hmac:http:bench-prop-${RUN}-*`)
  await Promise.allSettled(Object.values(redis).map((c) => c.quit()))
  await adminConn.close().catch(() => {})
  process.exit(0)
}
const results = IMPLS.map((impl, i) => ({
  impl: impl.name,
  scenario: Object.fromEntries(Object.keys(raw[i].scenario[0]).map((k) => [k, pick(raw[i].scenario, k)])),
  drain: Object.fromEntries(Object.keys(raw[i].drain[0]).map((k) => [k, pick(raw[i].drain, k)])),
  latencyMs: latencyOf(raw[i].latency),
}))
const base = results[0]
const f0 = (x) => x.toFixed(0)
const mr = (s, d = 0) => `${s.median.toFixed(d)} (${s.min.toFixed(d)}-${s.max.toFixed(d)})`
const ratio = (a, b) => `${(a / b).toFixed(2)}x`

console.log(`\nensure ${N} credentials, then ONE sync() to 2 targets (median (min-max) of ${ROUNDS}; ms from the start of sync):`)
table(
  results.map((r) => ({
    impl: r.impl,
    'ensure ms': mr(r.scenario.ensureMs),
    'sync ms': mr(r.scenario.syncMs),
    'applied ms': mr(r.scenario.appliedMs),
    'acked ms': mr(r.scenario.ackedMs),
    'cred/s': mr(r.scenario.credentialsPerSecond),
    'CPU ms': f0(r.scenario.cpuMs.median),
    'vs original (acked)': ratio(base.scenario.ackedMs.median, r.scenario.ackedMs.median),
  })),
  ['impl', 'ensure ms', 'sync ms', 'applied ms', 'acked ms', 'cred/s', 'CPU ms', 'vs original (acked)'],
)
console.log(`\nreceive: a target started on a queue pre-filled with ${N} apply events:`)
table(
  results.map((r) => ({
    impl: r.impl,
    'total ms': mr(r.drain.totalMs),
    'start ms': mr(r.drain.startMs, 1),
    'events/s': mr(r.drain.eventsPerSecond),
    'ms/event': r.drain.perEventMs.median.toFixed(3),
    'CPU ms': f0(r.drain.cpuMs.median),
    'vs original': ratio(base.drain.totalMs.median, r.drain.totalMs.median),
  })),
  ['impl', 'total ms', 'start ms', 'events/s', 'ms/event', 'CPU ms', 'vs original'],
)
console.log(`\nlatency: ensure + sync of one credential until usable at both targets (${ROUNDS} x ${LAT_N} samples):`)
table(
  results.map((r) => ({
    impl: r.impl,
    'p50 ms': r.latencyMs.p50.toFixed(1),
    'p90 ms': r.latencyMs.p90.toFixed(1),
    'p99 ms': r.latencyMs.p99.toFixed(1),
    'max ms': r.latencyMs.max.toFixed(1),
  })),
  ['impl', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
)
const floor = stats(floorRuns)
console.log(`\nbroker floor: ${2 * N} sequential persistent publishes + confirm (amqplib, no Redis): ${mr(floor)} ms`)
const perRun = (key) => results.map((r) => `  ${r.impl}: ${r.scenario[key].runs.join(' / ')}`).join('\n')
console.log(`credentials reported fully propagated while a target was still unacknowledged, per run:\n${perRun('fullyEarly')}`)
console.log(`ACKs dropped on the authority as 'unknown eventId' (arrived before the event was recorded), per run:\n${perRun('acksDroppedUnknown')}`)
console.log(`credentials never reported fully propagated, per run:\n${perRun('credentialsNeverFullyPropagated')}`)
console.log(`Table 3 rows left 'sent' after their ACK (a late markTargetSent overwrote 'success'), per run:\n${perRun('rowsLeftSent')}`)

for (const role of ROLES) await deleteKeys(redis[role], `hmac:http:bench-prop-${RUN}-*`)
await Promise.allSettled(Object.values(redis).map((c) => c.quit()))
await adminConn.close().catch(() => {})
const file = writeResults(
  'node-propagation',
  {
    n: N,
    rounds: ROUNDS,
    topology: 'one Node process: 1 full-mode authority + 2 full-mode targets, each with its own AMQP connection, Redis database and core namespace',
    coreInstances: '@authcore/node-hmac-auth-core plays @naskot/node-hmac-auth-core for every implementation (node-redis client, or a redis:// URL in the URL variant)',
    management: 'in-memory, publish-once (only pending rows)',
    latency: 'latencyMs: one credential at a time, ensure() + sync() until both targets applied it (setSecretHash resolved), percentiles over every sample of every round',
    metricsFromStartOfSync: {
      syncMs: 'sync() resolved',
      appliedMs: 'every target applied every credential',
      ackedMs: 'every ACK handled on the authority (result recorded, or dropped as unknown) and the last markCredentialFullyPropagated returned',
    },
    brokerFloorMs: { ...floor, what: `${2 * N} sequential persistent publishes with a confirm each (amqplib), no Redis` },
    results,
  },
  NATIVE,
)
console.log(`results: ${file}`)
process.exit(0)
