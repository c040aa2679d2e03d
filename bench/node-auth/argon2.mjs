// argon2id hash and verify at equal parameters (m=19456 KiB, t=2, p=1, 32-byte output):
// authcore vs @node-rs/argon2 and argon2 (npm); sequential latency, then 8 concurrent
// hashes with the event loop's maximum lag during the batch. authcore runs at most
// kdfConcurrency() key derivations at once (default: CPUs - 1, at least 1); a second authcore
// row runs the batch with the limit at the CPU count, to show the lag/throughput trade-off.
import os from 'node:os'
import * as nodeRs from '@node-rs/argon2'
import argon2 from 'argon2'
import { loadAuthcore, interleavedMedians, withLagProbe, table, writeResults, fmt } from './common.mjs'

const { native } = await loadAuthcore()

const P = { memoryCost: 19456, timeCost: 2, parallelism: 1 }
const hasher = await native.createPasswordHasher()
const defaultLimit = native.kdfConcurrency()
const cpus = os.availableParallelism()
const impls = {
  authcore: {
    hash: (pw) => hasher.hash(pw),
    verify: (h, pw) => hasher.verify(pw, h),
  },
  [`authcore (kdfConcurrency=${cpus})`]: {
    limit: cpus,
    hash: (pw) => hasher.hash(pw),
    verify: (h, pw) => hasher.verify(pw, h),
  },
  '@node-rs/argon2': {
    hash: (pw) => nodeRs.hash(pw, { ...P, outputLen: 32 }),
    verify: (h, pw) => nodeRs.verify(h, pw),
  },
  'argon2 (npm)': {
    hash: (pw) => argon2.hash(pw, { type: argon2.argon2id, ...P, hashLength: 32 }),
    verify: (h, pw) => argon2.verify(h, pw),
  },
}

const RUNS = Number(process.env.ARGON2_RUNS || 15)
const pw = 'correct horse battery staple'
const hashes = {}
for (const [name, impl] of Object.entries(impls)) {
  const h = await impl.hash(pw)
  const params = new Set(h.split('$')[3].split(','))
  if (!h.startsWith('$argon2id$v=19$') || !['m=19456', 't=2', 'p=1'].every((x) => params.has(x))) {
    throw new Error(`${name}: unexpected params ${h}`)
  }
  // Cross-check: every implementation's hash verifies in ours.
  if (!(await native.passwordVerifyArgon2(pw, h))) throw new Error(`${name} hash rejected`)
  hashes[name] = h
}
const map = (f) => Object.fromEntries(Object.entries(impls).map(([n, impl]) => [n, () => f(n, impl)]))
const hashMs = await interleavedMedians(map((n, impl) => impl.hash(pw)), RUNS)
const verifyMs = await interleavedMedians(map((n, impl) => impl.verify(hashes[n], pw)), RUNS)
// Batches: 3 rounds, interleaved; median wall time and the worst lag seen.
const batches = Object.fromEntries(Object.keys(impls).map((n) => [n, []]))
for (let r = 0; r < 3; r++) {
  for (const [n, impl] of Object.entries(impls)) {
    native.setKdfConcurrency(impl.limit ?? defaultLimit)
    batches[n].push(await withLagProbe(() => Promise.all(Array.from({ length: 8 }, (_, i) => impl.hash(`pw-${i}`)))))
    native.setKdfConcurrency(defaultLimit)
  }
}
const rows = []
for (const n of Object.keys(impls)) {
  const b = batches[n]
  const wall = b.map((x) => x.wall).sort((x, y) => x - y)[1]
  const lag = Math.max(...b.map((x) => x.maxLag))
  rows.push({
    impl: n,
    'hash ms (median)': fmt(hashMs[n]),
    'verify ms (median)': fmt(verifyMs[n]),
    '8 concurrent hashes, wall ms': fmt(wall, 1),
    'max event-loop lag ms': fmt(lag),
    _hash: hashMs[n],
    _verify: verifyMs[n],
    _batch: wall,
    _lag: lag,
  })
}
table(rows, ['impl', 'hash ms (median)', 'verify ms (median)', '8 concurrent hashes, wall ms', 'max event-loop lag ms'])
const me = rows[0]
const peers = rows.slice(2)
// "No slower": within 5% of the fastest peer (run-to-run noise on a shared 2-core box).
const noSlower = (k) => peers.every((p) => me[k] <= p[k] * 1.05)
const goals = {
  hashNoSlowerThanPeers: noSlower('_hash'),
  verifyNoSlowerThanPeers: noSlower('_verify'),
  batchNoSlowerThanPeers: noSlower('_batch'),
  maxLagMs: +me._lag.toFixed(2),
  lagUnder5ms: me._lag < 5,
}
goals.met = goals.hashNoSlowerThanPeers && goals.verifyNoSlowerThanPeers && goals.batchNoSlowerThanPeers && goals.lagUnder5ms
console.log(`\nargon2id goal (no slower than any peer, lag < 5 ms): ${goals.met ? 'MET' : 'NOT MET'}`, goals)
console.log('wrote', writeResults('node-auth-argon2', { params: P, runs: RUNS, kdfConcurrency: defaultLimit, rows: rows.map(({ _hash, _verify, _batch, _lag, ...r }) => r), goals }))
