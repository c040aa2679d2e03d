// The addon's `requestHeaders` (the core's getHeader rule, hmac::sources::VerifyHeaders,
// read from a JS object) against the rule the drop-in used to carry in JavaScript, on
// hand-picked edge cases and on seeded random header objects.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const native = require('@authcore/native')

function headerText(v) {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return undefined
  return typeof v === 'string' ? v : String(v)
}

// The former JavaScript rule of the drop-in, verbatim: the reference.
function reference(headers) {
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
  if (clientId !== undefined && clientId !== null && typeof clientId !== 'string') {
    const e = new TypeError('x-client-id must be a string')
    e.code = 'INVALID_INPUT'
    throw e
  }
  return [clientId ?? null, headerText(signature) ?? null, headerText(timestamp) ?? null, headerText(nonce) ?? null,
    typeof forwardedFor === 'string' ? forwardedFor : null]
}

function outcome(fn) {
  try {
    return { ok: fn() }
  } catch (e) {
    return { error: e.code, message: e.message }
  }
}

// The addon takes strings as UTF-8 (a lone surrogate becomes U+FFFD, as every string
// argument of the addon does).
const wellFormed = (r) => (r.ok ? { ok: r.ok.map((v) => (typeof v === 'string' ? v.toWellFormed() : v)) } : r)

function same(headers, label) {
  assert.deepEqual(outcome(() => native.requestHeaders(headers)), wellFormed(outcome(() => reference(headers))), label)
}

test('edge cases decide like the former JavaScript rule', () => {
  const inherited = Object.create({ 'x-client-id': 'proto' })
  inherited['x-nonce'] = 'own'
  let reads = 0
  const getter = {
    get 'x-signature'() {
      reads++
      return 'sig'
    },
    'X-Signature': 'later',
  }
  const cases = [
    undefined, null, 'x-client-id', 42, ['x-client-id'], {},
    { 'x-client-id': 'a', 'x-signature': 's', 'x-timestamp': '1', 'x-nonce': 'n', 'x-forwarded-for': '1.2.3.4' },
    { 'X-Client-Id': ' A ', 'x-client-id': 'second', 'X-NONCE': ['first', 'second'], 'x-timestamp': [] },
    { 'x-client-id': null, 'x-signature': '', 'x-timestamp': 0, 'x-nonce': false },
    { 'x-signature': -0, 'x-timestamp': 12.5, 'x-nonce': true, 'x-forwarded-for': ['9.9.9.9'] },
    { 'x-signature': NaN, 'x-timestamp': 1e21, 'x-nonce': 10n, 'x-forwarded-for': 5 },
    { 'x-signature': Symbol('s'), 'x-timestamp': { toString: () => 'obj' }, 'x-nonce': [[1, 2]] },
    { 'x-signature': 'é\ud800', 'x-nonce': 'ok', 'x-forwarded-for-': 'no', 'x-forwarded-for': undefined },
    { 'x-client-id': 7 },
    { 'x-client-id': ['a', 'b'] },
    { 'x-client-id': [7] },
    { 'X-K\u212Aey': 'kelvin', 'x-\u212Aonce': 'no', 'x-client-id\u00e9': 'no' },
    inherited,
    getter,
    Object.assign(Object.create(null), { 'x-nonce': 'nullproto' }),
  ]
  cases.forEach((h, i) => same(h, `case ${i}`))
  reads = 0
  native.requestHeaders(getter)
  assert.equal(reads, 1, 'a header value is read once')
  const throwing = { 'x-client-id': 'a', 'x-signature': { toString: () => { throw new Error('boom') } } }
  assert.throws(() => native.requestHeaders(throwing), /boom/)
})

test('random header objects decide like the former JavaScript rule', () => {
  let state = 20261207
  const rand = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const pick = (xs) => xs[Math.floor(rand() * xs.length)]
  const names = ['x-client-id', 'X-Client-ID', 'x-signature', 'X-SIGNATURE', 'x-timestamp', 'X-Timestamp', 'x-nonce',
    'X-Nonce', 'x-forwarded-for', 'X-Forwarded-For', 'host', 'content-type', 'x-nonc', 'x-noncee', 'accept-encoding', '0', '12']
  const values = ['', 'v', ' a ', '1700000000000', 0, 1, -1, 2.5, true, false, null, undefined, [], ['x'], ['', 'y'], [0], NaN]
  for (let i = 0; i < 3000; i++) {
    const h = {}
    const n = Math.floor(rand() * 9)
    for (let j = 0; j < n; j++) h[pick(names)] = pick(values)
    same(h, JSON.stringify(Object.entries(h)))
  }
})

test('raw napi::sys calls live in the raw modules only (src/**/raw.rs)', async () => {
  const { readFileSync, readdirSync, statSync } = await import('node:fs')
  const { join, dirname, basename } = await import('node:path')
  const { fileURLToPath } = await import('node:url')
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src')
  const files = (dir) =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n)
      return statSync(p).isDirectory() ? files(p) : p.endsWith('.rs') ? [p] : []
    })
  const outside = files(src)
    .filter((f) => basename(f) !== 'raw.rs')
    .flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (/sys::napi_[a-z0-9_]+\s*\(/.test(line) ? [`${f}:${i + 1}`] : [])),
    )
  assert.deepEqual(outside, [])
})
