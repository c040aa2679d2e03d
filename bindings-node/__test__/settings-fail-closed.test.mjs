// Numeric settings fail closed: a lifetime, a leeway or a limit that is NaN, infinite,
// negative, fractional or out of range throws a typed error at construction (or on the
// call) instead of becoming 0, "forever" or "unlimited" through a cast.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const native = createRequire(import.meta.url)('../index.js')
const BAD = [NaN, Infinity, -Infinity, -1, 1.5]

function keys() {
  const k = new native.KeySet()
  k.addHmac('settings-secret')
  return k
}

test('TokenManager lifetimes and leeway', () => {
  for (const field of ['accessTtl', 'refreshTtl', 'mfaPendingTtl']) {
    for (const bad of [...BAD, 0, 31_536_001]) {
      assert.throws(() => new native.TokenManager(keys(), { issuer: 'https://i.example', [field]: bad }), (e) => {
        assert.equal(e.code, 'JWT_INVALID_CONFIG', `${field}=${bad}`)
        return true
      })
    }
  }
  for (const bad of [...BAD, 86_401]) {
    assert.throws(() => new native.TokenManager(keys(), { issuer: 'https://i.example', leeway: bad }), { code: 'JWT_INVALID_CONFIG' })
  }
  new native.TokenManager(keys(), { issuer: 'https://i.example', accessTtl: 60, refreshTtl: 86_400, leeway: 5 })
})

test('a verification leeway of -1 is refused (it was 4294967295 s)', () => {
  const k = keys()
  const token = k.sign(JSON.stringify({ sub: 'u', exp: 1 }))
  assert.throws(() => k.verify(token, { now: 1000 }), { code: 'JWT_EXPIRED' })
  for (const bad of [-1, NaN, 86_401]) {
    assert.throws(() => k.verify(token, { now: 1000, leeway: bad }), { code: 'JWT_INVALID_CONFIG' })
  }
})

test('authorization-code lifetime', () => {
  for (const bad of [...BAD, 0, 600_001]) {
    assert.throws(() => new native.AuthorizationServer({ codeTtlMs: bad }), { code: 'OAUTH_INVALID_CONFIG' })
  }
  new native.AuthorizationServer({ codeTtlMs: 30_000 })
})

test('SSE buffer limit', () => {
  for (const bad of [-1, NaN, 1.5, Infinity]) {
    assert.throws(() => new native.MemorySseStream(null, bad), /REALTIME_INVALID_SETTING/)
  }
  new native.MemorySseStream(null, 0) // no limit, explicitly
})
