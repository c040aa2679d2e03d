// Memory soak of the Node packages' hot paths on a release addon (bench/soak/run.sh loads
// it through NAPI_RS_NATIVE_LIBRARY_PATH). Each path runs a warm-up (the first 10% of N calls
// and at least 10 s), then the other 90%; RSS is read after the warm-up, at the midpoint and
// at the end, each time after a full GC (run with
// --expose-gc) so JS garbage is not counted as growth. One JSON object per path on stdout.
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

const WARM_SECONDS = Number(process.env.SOAK_WARM_SECONDS ?? 10)
const ONLY = process.env.SOAK_ONLY ? new RegExp(process.env.SOAK_ONLY) : null

async function soak(path, n, fn, { concurrency = 1 } = {}) {
  if (ONLY && !ONLY.test(path)) return
  // Warm-up: the first 10% of the calls and at least WARM_SECONDS, so a working set that
  // lives for a time (the nonces of the last ~2 s) has reached its steady size before the
  // reading; then n - n/10 measured calls, read at their midpoint and at the end.
  const measured = n - Math.floor(n / 10)
  const start = rss()
  let rssWarm = 0
  let rssMid = 0
  let next = 0
  const t0 = process.hrtime.bigint()
  const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9
  const warmDone = () => next >= Math.floor(n / 10) && elapsed() >= WARM_SECONDS
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
  rssWarm = rss()
  await runUntil(() => next >= warmCalls + Math.floor(measured / 2))
  rssMid = rss()
  await runUntil(() => next >= warmCalls + measured)
  const seconds = elapsed()
  const row = { lang: 'node', path, calls: next, warm_calls: warmCalls, seconds: Number(seconds.toFixed(2)), rss_start_kib: start, rss_warm_kib: rssWarm, rss_mid_kib: rssMid, rss_end_kib: rss() }
  console.log(JSON.stringify(row))
}

const secretHash = core.hashClientSecret('secret_a')
const body = JSON.stringify({ order: 42, items: [{ sku: 'sku-1', qty: 1 }] })
const path = '/api/orders?x=1'

await soak('sign', N_FAST, (i) => core.signRequest({ method: 'POST', path, timestamp: 1.7e12 + i, nonce: `n${i}`, body, secret: secretHash }))

// Verification through the store-backed API: every call signs a fresh request (unique
// nonce, current time) and verifies it, so each call claims a new nonce. maxSkewMs 1000:
// a nonce lives about 2 s, so a store that drops expired nonces stays small.
async function verifySoak(label, redis, n, concurrency) {
  const namespace = `soak_${process.pid}_${label.replace(/\W+/g, "_")}`
  const auth = core.initializeHmacHttpAuth({ redis, namespace, maxSkewMs: 1000 })
  await auth.clients.setSecretHash('app_a', secretHash)
  let failures = 0
  await soak(label, n, async (i) => {
    const ts = Date.now()
    const nonce = `n${i}`
    const signature = core.signRequest({ method: 'POST', path, timestamp: ts, nonce, body, secret: secretHash })
    try {
      await auth.verifyHttpSignature({ method: 'POST', path, rawBody: body, headers: { 'x-client-id': 'app_a', 'x-signature': signature, 'x-timestamp': String(ts), 'x-nonce': nonce } })
    } catch (e) {
      if (failures++ === 0) console.error(`${label}: ${e.code} ${e.message}`)
    }
  }, { concurrency })
  if (failures) throw new Error(`${label}: ${failures} verifications failed`)
  await auth.clients.delete('app_a')
}
await verifySoak('verify (memory store)', 'memory://soak', N_FAST, 1)
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
