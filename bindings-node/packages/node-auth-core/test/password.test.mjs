// PasswordService: node-auth's tests/password.service.test.ts, bcryptjs cross-checks in
// both directions, argon2id against @node-rs/argon2 and argon2 (npm), the bcrypt →
// argon2id migration and the unknown-user path.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import bcryptjs from 'bcryptjs'
import * as nodeRsArgon2 from '@node-rs/argon2'
import argon2 from 'argon2'
import { PasswordService, native } from '@authcore/node-auth-core'

const svc = new PasswordService()

// ---- node-auth tests/password.service.test.ts ----------------------------------------
test('hash differs from the plaintext and starts with $2', async () => {
  const h = await svc.hash('mySecret123')
  assert.notEqual(h, 'mySecret123')
  assert.ok(h.startsWith('$2'))
})

test('compare is true for the right password and false for a wrong one', async () => {
  const h = await svc.hash('mySecret123', 4)
  assert.equal(await svc.compare('mySecret123', h), true)
  assert.equal(await svc.compare('wrong', h), false)
})

test('a custom cost of 6 round-trips', async () => {
  const h = await svc.hash('pw', 6)
  assert.match(h, /^\$2b\$06\$[./A-Za-z0-9]{53}$/)
  assert.equal(await svc.compare('pw', h), true)
})

// ---- bcryptjs compatibility -----------------------------------------------------------
test('default cost is 12 and output is $2b$, 60 characters (bcryptjs shape)', async () => {
  const h = await svc.hash('pw')
  assert.equal(h.length, 60)
  assert.ok(h.startsWith('$2b$12$'))
})

test('bcryptjs hashes verify in ours, including $2a$ and $2y$ variants', async () => {
  for (const pw of ['correct horse', '', 'pässwörd ✓', 'x'.repeat(100)]) {
    const theirs = bcryptjs.hashSync(pw, 4)
    assert.equal(await svc.compare(pw, theirs), true, pw)
    assert.equal(await svc.compare(pw + '!', theirs), pw.length >= 72, pw) // >72 bytes: truncated
    for (const minor of ['$2a$', '$2y$']) {
      assert.equal(await svc.compare(pw, theirs.replace('$2b$', minor)), true, minor)
    }
  }
})

test('our hashes verify in bcryptjs', async () => {
  for (const pw of ['correct horse', 'pässwörd ✓', '']) {
    const ours = await svc.hash(pw, 5)
    assert.equal(bcryptjs.compareSync(pw, ours), true)
    assert.equal(bcryptjs.compareSync(pw + 'x', ours), false)
  }
})

test('same salt gives the same bytes as bcryptjs (hash with a salt string)', async () => {
  const salt = bcryptjs.genSaltSync(4)
  for (const pw of ['abc', 'pässwörd', 'y'.repeat(80)]) {
    assert.equal(await svc.hash(pw, salt), bcryptjs.hashSync(pw, salt))
  }
})

test('72-byte truncation is silent, counted in UTF-8 bytes', async () => {
  const base = 'é'.repeat(36) // 72 bytes
  const h = await svc.hash(base, 4)
  assert.equal(await svc.compare(base + 'anything', h), true)
  assert.equal(bcryptjs.compareSync(base + 'anything', h), true)
  assert.equal(await svc.compare('é'.repeat(35), h), false)
})

test('costs below 4 are clamped to 4, like bcryptjs', async () => {
  assert.ok((await svc.hash('pw', 1)).startsWith('$2b$04$'))
  assert.ok(bcryptjs.hashSync('pw', 1).startsWith('$2b$04$'))
})

test('cost rule is bcryptjs\'s: negative clamps to 4, falsy (0, NaN) is 10, above 31 clamps, fractional rejects', async () => {
  // hash(pw, -1) once ran a 2^31-round hash (an unsigned cast): it must settle at cost 4.
  const settled = await Promise.race([
    svc.hash('pw', -1),
    new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref()),
  ])
  assert.match(settled, /^\$2b\$04\$/)
  assert.match(bcryptjs.hashSync('pw', -1), /^\$2b\$04\$/)
  for (const cost of [0, NaN, -0]) {
    const h = await svc.hash('pw', cost)
    assert.match(h, /^\$2b\$10\$/, String(cost))
    assert.match(await bcryptjs.hash('pw', cost), /^\$2b\$10\$/)
    assert.equal(await svc.compare('pw', h), true)
  }
  assert.match(bcryptjs.genSaltSync(Infinity), /^\$2b\$31\$/)
  assert.equal(native.bcryptHashSync('pw', -1).slice(0, 7), '$2b$04$')
  assert.equal(native.bcryptHashSync('pw', 0).slice(0, 7), '$2b$10$')
  await assert.rejects(bcryptjs.hash('pw', 4.5), (e) => e.message === 'Missing salt rounds')
  await assert.rejects(svc.hash('pw', 4.5), (e) => e.constructor === Error && e.message === 'Missing salt rounds')
})

test('bad arguments reject like bcryptjs; a non-hash string compares false', async () => {
  await assert.rejects(svc.compare(undefined, '$2b$04$abcdefghijklmnopqrstuu'), /Illegal arguments: undefined, string/)
  await assert.rejects(svc.hash(undefined), /Illegal arguments/)
  assert.equal(await svc.compare('pw', 'not-a-hash'), false)
  assert.equal(await bcryptjs.compare('pw', 'not-a-hash'), false)
})

test('malformed 60-character hashes reject with bcryptjs\'s own Error and message', async () => {
  const h = bcryptjs.hashSync('pw', 4)
  for (const bad of [h.replace('$2b$', '$2x$'), h.replace('$04$', '$03$'), 'x' + h.slice(1), h.replace('$04$', '$32$')]) {
    let theirs
    await bcryptjs.compare('pw', bad).catch((e) => (theirs = e))
    assert.ok(theirs instanceof Error, bad)
    await assert.rejects(svc.compare('pw', bad), (e) => e.constructor === Error && e.message === theirs.message)
  }
  // Lone surrogates are encoded as bcryptjs encodes them (not as U+FFFD).
  const salt = bcryptjs.genSaltSync(4)
  for (const pw of ['a\uD800b', '\uDC00', 'x\uD83D']) {
    assert.equal(await svc.hash(pw, salt), bcryptjs.hashSync(pw, salt), JSON.stringify(pw))
    assert.equal(await svc.compare(pw.replace(/[\uD800-\uDFFF]/g, '\uFFFD'), bcryptjs.hashSync(pw, salt)), false)
  }
})

// ---- argon2id -------------------------------------------------------------------------
const OWASP = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/

test('argon2id hashes (OWASP defaults) verify in @node-rs/argon2 and argon2, and theirs in ours', async () => {
  const ours = await svc.hashArgon2('correct horse')
  assert.match(ours, OWASP)
  assert.equal(await nodeRsArgon2.verify(ours, 'correct horse'), true)
  assert.equal(await argon2.verify(ours, 'correct horse'), true)
  assert.equal(await argon2.verify(ours, 'wrong'), false)
  const fromNodeRs = await nodeRsArgon2.hash('correct horse', { memoryCost: 19456, timeCost: 2, parallelism: 1 })
  const fromArgon2 = await argon2.hash('correct horse', { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 })
  for (const h of [fromNodeRs, fromArgon2]) {
    assert.equal(await svc.compare('correct horse', h), true)
    assert.equal(await svc.compare('wrong', h), false)
    assert.equal(svc.needsRehash(h), false)
  }
  // argon2's default (m=65536, t=3, p=4) verifies and asks for a rehash to OWASP.
  const heavy = await argon2.hash('pw')
  assert.equal(await svc.compare('pw', heavy), true)
  assert.equal(svc.needsRehash(heavy), true)
})

test('verifyAndUpgrade: a bcryptjs hash logs in and is upgraded to argon2id', async () => {
  const legacy = bcryptjs.hashSync('s3cret', 4)
  const ok = await svc.verifyAndUpgrade('s3cret', legacy)
  assert.equal(ok.valid, true)
  assert.match(ok.rehash, OWASP)
  assert.equal(await argon2.verify(ok.rehash, 's3cret'), true)
  const again = await svc.verifyAndUpgrade('s3cret', ok.rehash)
  assert.deepEqual({ ...again }, { valid: true })
  const bad = await svc.verifyAndUpgrade('nope', legacy)
  assert.equal(bad.valid, false)
  assert.equal(bad.rehash ?? null, null)
})

test('unknown user: verifyAndUpgrade(pw, null) runs a real KDF and is never valid (no enumeration)', async () => {
  const hasher = await native.createPasswordHasher()
  const real = await hasher.hash('pw')
  const before = hasher.kdfRuns
  // Interleaved samples; the minimum of each is robust against load spikes.
  const known = []
  const unknown = []
  for (let i = 0; i < 3; i++) {
    let t0 = process.hrtime.bigint()
    const k = await hasher.verifyAndUpgrade('pw-wrong', real)
    known.push(Number(process.hrtime.bigint() - t0))
    assert.equal(k.valid, false)
    t0 = process.hrtime.bigint()
    const u = await hasher.verifyAndUpgrade('pw', null)
    unknown.push(Number(process.hrtime.bigint() - t0))
    assert.equal(u.valid, false)
  }
  assert.equal(hasher.kdfRuns, before + 6)
  // Same KDF at the same parameters: the unknown-user path is not measurably cheaper.
  const a = Math.min(...known)
  const b = Math.min(...unknown)
  assert.ok(b > a / 3, `unknown-user path took ${b} ns vs ${a} ns for a real user`)
})

test('async and sync twins agree', async () => {
  const h = native.bcryptHashSync('pw', 4)
  assert.equal(native.bcryptVerifySync('pw', h), await native.bcryptVerify('pw', h))
  const a = native.passwordHashArgon2idSync('pw', { memoryCost: 1024, timeCost: 1 })
  assert.equal(native.passwordVerifyArgon2Sync('pw', a), true)
  assert.equal(await native.passwordVerifyArgon2('pw', a), true)
  assert.equal(native.bcryptHashWithSaltSync('pw', h.slice(0, 29)), h)
  assert.equal(await native.bcryptHashWithSalt('pw', h.slice(0, 29)), h)
})

test('malformed argon2 input is a typed error, never a crash', async () => {
  await assert.rejects(native.passwordVerifyArgon2('pw', '$argon2id$v=19$m=1,t=1,p=1$$'), (e) => e.code === 'PASSWORD_INVALID_HASH')
  await assert.rejects(native.passwordVerify('pw', '$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA'), (e) => e.code === 'PASSWORD_UNSUPPORTED_ALGORITHM')
  assert.throws(() => native.passwordNeedsRehash('garbage'), (e) => e.code === 'PASSWORD_INVALID_HASH' && e.status === 500)
  const tooLong = 'x'.repeat(5000)
  await assert.rejects(svc.hashArgon2(tooLong), (e) => e.code === 'PASSWORD_TOO_LONG' && e.status === 400)
})
