// The cost of the header-lookup rule on the drop-in's verification hot path
// (`verifyHttpSignature` with a `memory://` store, the completion-queue pump), three ways
// in one process, interleaved rounds, medians:
//   js      the getHeader rule written in JS (what the drop-in did before), then verifySubmit
//   call    one extra native call, `requestHeaders(headers)` (the core's rule), then verifySubmit
//   inline  the headers and metadata objects passed into the one verify call
//           (`verifySubmitRequest`): the core's rule reads them inside it
// plus the header lookup alone (js vs call). Express-like headers: 12 entries, the four
// verify headers last. Run with a release addon (bench/node/run.sh sets
// NAPI_RS_NATIVE_LIBRARY_PATH).
import { createRequire } from 'node:module'
import { perCall, table, writeResults } from './common.mjs'

const require = createRequire(import.meta.url)
const native = require('@authcore/native')

const secret = 'secret_bench'
const now = Date.now()
const path = '/api/v1/orders/42?expand=items&limit=10'
const body = JSON.stringify({ order: 42, items: [{ sku: 'a', qty: 1 }], note: 'x'.repeat(120) })
const metadata = { ip: '10.1.2.3', ips: [], remoteAddress: '10.1.2.3', forwardedFor: undefined }

const auth = new native.HmacAuth('memory://verify-headers-bench', {})
await auth.clientsCreate('app_a', { plainSecretKind: 2, plainSecret: secret })

function headerText(v) {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return undefined
  return typeof v === 'string' ? v : String(v)
}

// The drop-in's former JS rule, verbatim.
function requestHeadersJs(headers) {
  let clientId, signature, timestamp, nonce, forwardedFor
  let seen = 0
  if (headers && typeof headers === 'object') {
    for (const key of Object.keys(headers)) {
      if (key.length < 7 || key.length > 15) continue
      const k = key.toLowerCase()
      let slot = 0
      if (k === 'x-client-id') slot = 1
      else if (k === 'x-signature') slot = 2
      else if (k === 'x-timestamp') slot = 4
      else if (k === 'x-nonce') slot = 8
      else if (k === 'x-forwarded-for') slot = 16
      if (slot === 0 || seen & slot) continue
      seen |= slot
      let v = headers[key]
      if (Array.isArray(v)) v = v[0]
      if (slot === 1) clientId = v
      else if (slot === 2) signature = v
      else if (slot === 4) timestamp = v
      else if (slot === 8) nonce = v
      else forwardedFor = v
      if (seen === 31) break
    }
  }
  if (clientId !== undefined && clientId !== null && typeof clientId !== 'string') throw new TypeError('x-client-id must be a string')
  return { clientId: clientId ?? undefined, signature: headerText(signature), timestamp: headerText(timestamp), nonce: headerText(nonce), forwardedFor }
}

function requestHeadersCall(headers) {
  const v = native.requestHeaders(headers)
  return { clientId: v[0] ?? undefined, signature: v[1] ?? undefined, timestamp: v[2] ?? undefined, nonce: v[3] ?? undefined, forwardedFor: v[4] ?? undefined }
}

function ipSources(m, forwardedFor) {
  const header = typeof forwardedFor === 'string' ? forwardedFor : undefined
  return [m.ip, m.ips, m.forwardedFor, header, m.remoteAddress]
}

// The drop-in's completion-queue pump.
const pending = new Map()
let nextId = 0
auth.startCompletions(() => {
  for (const o of auth.drainCompletions()) {
    const resolve = pending.get(o.id)
    if (resolve !== undefined) {
      pending.delete(o.id)
      resolve(o)
    }
  }
})
const keepAlive = setInterval(() => {}, 1 << 30)

function headersFor(i, variant) {
  const nonce = `n-${variant}-${i}-${Math.random().toString(36).slice(2)}`
  const sig = native.signRequest({ method: 'POST', path, timestamp: now, nonce, body, secret: native.hashClientSecret(secret) })
  return {
    host: 'api.example.com',
    connection: 'keep-alive',
    'content-type': 'application/json',
    'content-length': String(body.length),
    'user-agent': 'bench/1.0',
    accept: '*/*',
    'accept-encoding': 'gzip, deflate, br',
    'accept-language': 'en-US,en;q=0.9',
    'x-client-id': 'app_a',
    'x-signature': sig,
    'x-timestamp': String(now),
    'x-nonce': nonce,
  }
}

const variants = {
  js(headers) {
    const h = requestHeadersJs(headers)
    return new Promise((resolve) => {
      const id = ++nextId
      auth.verifySubmit(id, 'POST', path, h.clientId, h.signature, h.timestamp, h.nonce, body, now, 300000, ipSources(metadata, h.forwardedFor))
      pending.set(id, resolve)
    }).then((o) => (o.ok ? { clientId: o.clientId, nonce: h.nonce, signature: h.signature } : Promise.reject(new Error(o.message))))
  },
  call(headers) {
    const h = requestHeadersCall(headers)
    return new Promise((resolve) => {
      const id = ++nextId
      auth.verifySubmit(id, 'POST', path, h.clientId, h.signature, h.timestamp, h.nonce, body, now, 300000, ipSources(metadata, h.forwardedFor))
      pending.set(id, resolve)
    }).then((o) => (o.ok ? { clientId: o.clientId, nonce: h.nonce, signature: h.signature } : Promise.reject(new Error(o.message))))
  },
  inline(headers) {
    return new Promise((resolve) => {
      const id = ++nextId
      auth.verifySubmitRequest(id, 'POST', path, headers, body, now, 300000, metadata)
      pending.set(id, resolve)
    }).then((o) => (o.ok ? { clientId: o.clientId, nonce: o.nonce, signature: o.signature } : Promise.reject(new Error(o.message))))
  },
}

const N = Number(process.env.N || 4000)
const CONCURRENCY = 32
const ROUNDS = Number(process.env.ROUNDS || 9)

async function round(name) {
  const reqs = Array.from({ length: N }, (_, i) => headersFor(i, name))
  const fn = variants[name]
  const t0 = process.hrtime.bigint()
  let next = 0
  async function lane() {
    while (next < reqs.length) {
      const h = reqs[next++]
      const r = await fn(h)
      if (r.nonce !== h['x-nonce']) throw new Error(`${name}: wrong nonce`)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane))
  return Number(process.hrtime.bigint() - t0) / N
}

// Same answers first.
for (const name of Object.keys(variants)) {
  const h = headersFor(0, `check-${name}`)
  const r = await variants[name](h)
  if (r.clientId !== 'app_a' || r.signature !== h['x-signature']) throw new Error(`${name}: bad result`)
}
const a = headersFor(0, 'lookup')
const x = requestHeadersJs(a)
const y = requestHeadersCall(a)
if (JSON.stringify(x) !== JSON.stringify(y)) throw new Error(`lookup differs: ${JSON.stringify([x, y])}`)

for (const name of Object.keys(variants)) await round(name) // warm-up
const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
for (let r = 0; r < ROUNDS; r++) {
  const order = Object.keys(variants)
  if (r % 2) order.reverse()
  for (const name of order) samples[name].push(await round(name))
}
clearInterval(keepAlive)
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]
const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))

const lookupJs = perCall(() => requestHeadersJs(a))
const lookupCall = perCall(() => requestHeadersCall(a))

const rows = [
  { what: 'verify, getHeader rule in JS (before)', 'ns/request': m.js.toFixed(0), 'vs js': '' },
  { what: 'verify, + native requestHeaders() call', 'ns/request': m.call.toFixed(0), 'vs js': `${((m.call / m.js - 1) * 100).toFixed(1)}%` },
  { what: 'verify, headers passed into the verify call', 'ns/request': m.inline.toFixed(0), 'vs js': `${((m.inline / m.js - 1) * 100).toFixed(1)}%` },
  { what: 'header lookup alone, JS', 'ns/request': lookupJs.toFixed(0), 'vs js': '' },
  { what: 'header lookup alone, native call', 'ns/request': lookupCall.toFixed(0), 'vs js': `${((lookupCall / lookupJs - 1) * 100).toFixed(1)}%` },
]
table(rows, ['what', 'ns/request', 'vs js'])
console.log(`results: ${writeResults('node-verify-headers', { rounds: ROUNDS, requestsPerRound: N, concurrency: CONCURRENCY, samples, medians: m, lookupJs, lookupCall })}`)
