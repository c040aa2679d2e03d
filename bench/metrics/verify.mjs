// Node: verifyHttpSignature through the drop-in on memory:// (one napi submit per request,
// the core's verifier, the completion queue), metrics recording on vs off
// (metricsSetEnabled), in interleaved rounds of N sequential-batch requests; medians.
// Run by bench/metrics/run.sh with a release addon; merges the Rust numbers (RUST_JSON).
import { createRequire } from 'node:module'
import { writeResults } from '../common.mjs'

const require = createRequire(import.meta.url)
const { metricsSetEnabled, metricsText } = require('@authcore/native/metrics.js')
const core = await import('@authcore/node-hmac-auth-core')

const ROUNDS = Number(process.env.NODE_ROUNDS ?? 40)
const CALLS = Number(process.env.NODE_CALLS ?? 5000)
const BATCH = 64 // requests in flight at once, like a server under load
const body = 'x'.repeat(200)
const auth = core.initializeHmacHttpAuth({ redis: 'memory://bench-metrics', maxSkewMs: 3_600_000 })
await auth.clients.setSecret('bench', 's')

let seq = 0
function requests(n) {
  const out = []
  for (let i = 0; i < n; i++) {
    const headers = Object.fromEntries(
      core.buildHttpSignedHeaders({ method: 'POST', url: '/v1/orders', body, clientId: 'bench', secret: 's', nonce: `n${++seq}` }),
    )
    out.push({ method: 'POST', path: '/v1/orders', headers, rawBody: body })
  }
  return out
}

async function round(reqs) {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < reqs.length; i += BATCH) {
    await Promise.all(reqs.slice(i, i + BATCH).map((r) => auth.verifyHttpSignature(r)))
  }
  return Number(process.hrtime.bigint() - t0) / reqs.length
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]
const on = []
const off = []
for (let r = 0; r < ROUNDS * 2 + 1; r++) {
  // Pairs (on, off), (off, on), … after one warm-up round.
  const pair = Math.floor(Math.max(r - 1, 0) / 2)
  const enabled = r === 0 || (r % 2 === 1) === (pair % 2 === 0)
  metricsSetEnabled(enabled)
  const reqs = requests(CALLS) // signed outside the timed part
  const ns = await round(reqs)
  if (r === 0) continue // warm-up
  ;(enabled ? on : off).push(ns)
}
metricsSetEnabled(true)
if (!metricsText().includes('authcore_verify_total{outcome="OK"}')) throw new Error('no verify counter')
const mOn = median(on)
const mOff = median(off)
const paired = median(on.map((v, i) => v / off[i]))
const node = {
  what: `verifyHttpSignature (drop-in, memory://), ${BATCH} in flight, 200-byte body`,
  rounds_each: on.length,
  calls_per_round: CALLS,
  ns_per_call_on_median: Math.round(mOn),
  ns_per_call_off_median: Math.round(mOff),
  calls_per_s_on: Math.round(1e9 / mOn),
  calls_per_s_off: Math.round(1e9 / mOff),
  overhead_percent: Math.round((mOn / mOff - 1) * 10000) / 100,
  paired_overhead_percent: Math.round((paired - 1) * 10000) / 100,
  rounds_on_ns: on.map(Math.round),
  rounds_off_ns: off.map(Math.round),
}
const rust = process.env.RUST_JSON ? JSON.parse(process.env.RUST_JSON) : null
const instructions = process.env.INSTRUCTIONS_JSON ? JSON.parse(process.env.INSTRUCTIONS_JSON) : null
const file = writeResults('metrics', { goal: 'metrics overhead under 2% of verify throughput', instructions, rust, node }, 'bench-fast addon')
console.log(JSON.stringify({ instructions, rust, node }, null, 2))
console.log(`wrote ${file}`)
