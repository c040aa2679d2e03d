// Memory soak of the Node packages' hot paths on a release addon (bench/soak/run.sh loads
// it through NAPI_RS_NATIVE_LIBRARY_PATH). Each path runs a warm-up (the first 10% of N calls
// and at least 10 s), then the other 90%; RSS is read after the warm-up and after every tenth
// of the measured calls, each time after a full GC (run with --expose-gc) so JS garbage is not
// counted as growth. The warm-up, midpoint and end checkpoints are each the median of three
// neighbouring readings. One JSON object per path on stdout.
//   node --expose-gc bench/soak/soak.mjs N_FAST N_KDF N_REDIS
const N_FAST = Number(process.argv[2] ?? 1_000_000)
const N_KDF = Number(process.argv[3] ?? 1_000_000)
const N_REDIS = Number(process.argv[4] ?? 1_000_000)
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

const core = await import('@authcore/node-hmac-auth-core')
const { native } = (await import('@authcore/node-auth-core')).default
const { SubscriberRegistry } = await import('@authcore/fuz-app-realtime')

const rss = () => {
  globalThis.gc?.()
  return Math.round(process.memoryUsage().rss / 1024)
}

const median3 = (a, b, c) => [a, b, c].sort((x, y) => x - y)[1]
const checkpoints = (t) => ({ rss_warm_kib: median3(t[0], t[1], t[2]), rss_mid_kib: median3(t[4], t[5], t[6]), rss_end_kib: median3(t[8], t[9], t[10]) })

const WARM_SECONDS = Number(process.env.SOAK_WARM_SECONDS ?? 10)
const ONLY = process.env.SOAK_ONLY ? new RegExp(process.env.SOAK_ONLY) : null

async function soak(path, n, fn, { concurrency = 1, warmSeconds = WARM_SECONDS } = {}) {
  if (ONLY && !ONLY.test(path)) return
  // Warm-up: the first 10% of the calls and at least WARM_SECONDS, so a working set that
  // lives for a time (the nonces of the last ~2 s) has reached its steady size before the
  // reading; then n - n/10 measured calls, read at their midpoint and at the end.
  const measured = n - Math.floor(n / 10)
  const start = rss()
  let next = 0
  const t0 = process.hrtime.bigint()
  const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9
  const warmDone = () => next >= Math.floor(n / 10) && elapsed() >= warmSeconds
  // Checkpoints are taken between batches so every worker is idle at the sample.
  async function runUntil(done) {
    if (concurrency === 1) {
      while (!done()) {
        const r = fn(next++)
        if (r instanceof Promise) await r
      }
    } else {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (!done()) await fn(next++)
        }),
      )
    }
  }
  await runUntil(warmDone)
  const warmCalls = next
  // A reading after every tenth of the measured calls (trace[0] right after warm-up,
  // trace[10] at the end). RSS after a full GC still moves within a band of a few MB from
  // reading to reading (glibc arenas of the tokio workers keep a high-water mark), so each
  // checkpoint is the median of three neighbouring readings: warm-up = trace[0..2],
  // midpoint = trace[4..6], end = trace[8..10]. The raw trace is kept in the row.
  const trace = [rss()]
  for (let k = 1; k <= 10; k++) {
    await runUntil(() => next >= warmCalls + Math.floor((measured * k) / 10))
    trace.push(rss())
  }
  const seconds = elapsed()
  const row = { lang: 'node', path, calls: next, warm_calls: warmCalls, seconds: Number(seconds.toFixed(2)), rss_start_kib: start, ...checkpoints(trace), rss_trace_kib: trace }
  console.log(JSON.stringify(row))
}

const secretHash = core.hashClientSecret('secret_a')
const body = JSON.stringify({ order: 42, items: [{ sku: 'sku-1', qty: 1 }] })
const path = '/api/orders?x=1'

await soak('sign', N_FAST, (i) => core.signRequest({ method: 'POST', path, timestamp: 1.7e12 + i, nonce: `n${i}`, body, secret: secretHash }))

// Verification through the store-backed API: every call signs a fresh request (unique
// nonce, current time) and verifies it, so each call claims a new nonce. maxSkewMs 1000:
// a nonce lives about 2 s, so a store that drops expired nonces stays small.
// The memory store holds every nonce of the last ~2 s, so its size is the call rate times
// that window: a run whose rate drifts (a noisy machine) would show the drift as RSS. Its
// calls are paced at STORE_RATE per second (a rate every run sustains) so the working set is
// the same from start to end. Its warm-up is at least STORE_WARM_SECONDS: in a Node process
// the allocator's high-water mark under this load keeps rising for about the first minute
// (the 2026-12-07 run: +9% over the first 300,000 calls at 5,000/s, flat after).
const STORE_WARM_SECONDS = Number(process.env.SOAK_STORE_WARM_SECONDS ?? 60)
const STORE_RATE = Number(process.env.SOAK_STORE_RATE ?? 5000)
function paced(fn, rate) {
  let t0 = null
  return async (i) => {
    if (i % 250 === 0) {
      const now = performance.now()
      if (t0 === null) t0 = now - (i * 1000) / rate
      const ahead = t0 + (i * 1000) / rate - now
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead))
    }
    return fn(i)
  }
}

async function verifySoak(label, redis, n, concurrency, rate) {
  const namespace = `soak_${process.pid}_${label.replace(/\W+/g, "_")}`
  const auth = core.initializeHmacHttpAuth({ redis, namespace, maxSkewMs: 1000 })
  await auth.clients.setSecretHash('app_a', secretHash)
  let failures = 0
  const one = async (i) => {
    const ts = Date.now()
    const nonce = `n${i}`
    const signature = core.signRequest({ method: 'POST', path, timestamp: ts, nonce, body, secret: secretHash })
    try {
      await auth.verifyHttpSignature({ method: 'POST', path, rawBody: body, headers: { 'x-client-id': 'app_a', 'x-signature': signature, 'x-timestamp': String(ts), 'x-nonce': nonce } })
    } catch (e) {
      if (failures++ === 0) console.error(`${label}: ${e.code} ${e.message}`)
    }
  }
  await soak(label, n, rate ? paced(one, rate) : one, { concurrency, ...(rate ? { warmSeconds: Math.max(WARM_SECONDS, STORE_WARM_SECONDS) } : {}) })
  if (failures) throw new Error(`${label}: ${failures} verifications failed`)
  await auth.clients.delete('app_a')
}
await verifySoak(`verify (memory store, ${STORE_RATE}/s)`, 'memory://soak', N_FAST, 1, STORE_RATE)
await verifySoak('verify (redis)', REDIS_URL, N_REDIS, 16)

const keys = new native.KeySet()
keys.addHmac('soak-secret-0123456789abcdef0123')
const payload = JSON.stringify({ sub: 'u1', email: 'alice@example.com', role: 'user', iat: 1700000000, exp: 4000000000 })
const token = keys.sign(payload)
await soak('jwt_sign', N_FAST, () => keys.sign(payload))
await soak('jwt_verify', N_FAST, () => keys.verifyNode(token))

const phc = native.passwordHashArgon2idSync('pw-soak', { memoryCost: 8, timeCost: 1, parallelism: 1 })
await soak('password_verify (argon2id m=8 t=1 p=1, async)', N_KDF, async () => {
  if (!(await native.passwordVerifyArgon2('pw-soak', phc))) throw new Error('password did not verify')
}, { concurrency: 4 })

const registry = new SubscriberRegistry()
let bytes = 0
const stream = { send: (d) => { bytes += 1 }, comment: () => {}, close: () => {}, on_close: () => {} }
registry.subscribe(stream, { channels: ['soak'] })
let broadcasts = 0 // the warm-up's 10 s floor can run more than N_FAST calls
await soak('sse_publish (registry broadcast)', N_FAST, (i) => {
  broadcasts++
  registry.broadcast('soak', { method: 'tick', params: { i } })
})
if (!ONLY && bytes !== broadcasts) throw new Error(`sse: ${bytes} sends for ${broadcasts} broadcasts`)
process.exit(0)
