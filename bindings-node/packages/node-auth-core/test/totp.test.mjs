// TotpStrategy: node-auth's tests/totp.strategy.test.ts, otplib cross-checks, malformed
// codes (a clean false, not a 500), drift window and replay protection.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateSync, verifySync, generateSecret as otplibSecret } from 'otplib'
import { TotpStrategy, native } from '@authcore/node-auth-core'

const totp = new TotpStrategy()

test('generateSecret: secret, otpauth URL, PNG data-URL QR', async () => {
  const r = totp.generateSecret('alice@example.com')
  assert.match(r.secret, /^[A-Z2-7]{32}$/)
  assert.ok(r.otpauthUrl.startsWith('otpauth://totp/'))
  assert.equal(r.otpauthUrl, `otpauth://totp/awesome-node-auth:alice%40example.com?secret=${r.secret}&issuer=awesome-node-auth`)
  assert.ok(r.qrCode instanceof Promise)
  assert.ok((await r.qrCode).startsWith('data:image/png;base64,'))
  assert.ok(totp.generateSecret('a@b.c', 'My App').otpauthUrl.startsWith('otpauth://totp/My%20App:a%40b.c?'))
})

test('a code generated with otplib verifies; 000000 does not', async () => {
  const { secret } = totp.generateSecret('alice@example.com')
  const code = generateSync({ secret })
  assert.equal(await totp.verify(code, secret), true)
  const fresh = new TotpStrategy()
  assert.equal(await fresh.verify(code === '000000' ? '000001' : '000000', secret), false)
})

test('our codes verify in otplib; otplib secrets work here', () => {
  const secret = otplibSecret()
  for (const t of [0, 59, 1111111109, 1700000000, 2000000000]) {
    const ours = native.totpGenerate(secret, { now: t })
    assert.equal(ours, generateSync({ secret, epoch: t }), String(t))
    assert.equal(verifySync({ secret, token: ours, epoch: t }).valid, true)
  }
})

test('enable and disable call updateTotpSecret', async () => {
  const calls = []
  const store = { updateTotpSecret: async (id, s) => calls.push([id, s]) }
  await totp.enable('u1', 'SECRET', store)
  await totp.disable('u1', store)
  assert.deepEqual(calls, [['u1', 'SECRET'], ['u1', null]])
})

test('malformed codes verify false with a typed reason, never throw (§6 item 32)', async () => {
  const { secret } = totp.generateSecret('x@y.z')
  for (const bad of ['12345', '1234567', '12a456', ' 123456', '', '１２３４５６']) {
    assert.equal(await totp.verify(bad, secret), false, JSON.stringify(bad))
    assert.equal(totp.verifyDetailed(bad, secret).code, 'TOTP_MALFORMED_CODE')
    // otplib (node-auth) throws here.
    assert.throws(() => verifySync({ secret, token: bad }))
  }
  assert.equal(await totp.verify(undefined, secret), false)
  assert.equal(totp.verifyDetailed('123456', 'JBSWY3DP').code, 'TOTP_SECRET_TOO_SHORT')
  assert.equal(totp.verifyDetailed('123456', 'not base32!').code, 'TOTP_INVALID_SECRET')
  assert.throws(() => native.totpVerify('12a456', secret), (e) => e.code === 'TOTP_MALFORMED_CODE' && e.status === 400)
})

test('replay: the same code is accepted once (typed TOTP_REPLAYED)', async () => {
  const strategy = new TotpStrategy()
  const { secret } = strategy.generateSecret('r@e.p')
  const code = generateSync({ secret })
  assert.equal(await strategy.verify(code, secret), true)
  assert.equal(await strategy.verify(code, secret), false)
  assert.equal(strategy.verifyDetailed(code, secret).code, 'TOTP_REPLAYED')
  // Across processes: persist the returned step.
  const now = 1700000015
  const c = native.totpGenerate(secret, { now })
  const fresh = new TotpStrategy({ replayProtection: false })
  const first = fresh.verifyDetailed(c, secret, { now })
  assert.equal(first.valid, true)
  assert.equal(first.step, Math.floor(now / 30))
  assert.deepEqual(fresh.verifyDetailed(c, secret, { now, lastUsedStep: first.step }), { valid: false, code: 'TOTP_REPLAYED' })
  assert.throws(() => native.totpVerify(c, secret, { now, lastUsedStep: first.step }), (e) => e.code === 'TOTP_REPLAYED' && e.status === 401)
})

test('drift: ±1 step by default, current step only with window 0 (node-auth)', () => {
  const secret = otplibSecret()
  const now = 1700000015
  const prev = native.totpGenerate(secret, { now: now - 30 })
  const s = new TotpStrategy({ replayProtection: false })
  assert.equal(s.verifyDetailed(prev, secret, { now }).valid, true)
  assert.equal(s.verifyDetailed(prev, secret, { now, window: 0 }).code, 'TOTP_INVALID_CODE')
  const old = native.totpGenerate(secret, { now: now - 90 })
  assert.equal(s.verifyDetailed(old, secret, { now }).valid, false)
})
