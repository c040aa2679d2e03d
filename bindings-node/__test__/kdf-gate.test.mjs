// The key-derivation limit: argon2/bcrypt/RSA Promises run on the libuv pool, at most
// kdfConcurrency() at once per JS thread, the rest queued on the JS thread in FIFO order.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import os from 'node:os'

const native = createRequire(import.meta.url)('../index.js')

const SMALL = { memoryCost: 64, timeCost: 1, parallelism: 1 }
const BIG = { memoryCost: 65536, timeCost: 3, parallelism: 1 }

test('default limit is one fewer than the CPUs (at least 1), or AUTHCORE_KDF_CONCURRENCY', () => {
  const fromEnv = Number(process.env.AUTHCORE_KDF_CONCURRENCY)
  const expected = fromEnv > 0 ? fromEnv : Math.max(1, os.availableParallelism() - 1)
  assert.equal(native.kdfConcurrency(), expected)
})

test('with limit 1, jobs queue on the JS thread and finish in submission order', async (t) => {
  const before = native.kdfConcurrency()
  t.after(() => native.setKdfConcurrency(before))
  assert.equal(native.setKdfConcurrency(1), 1)
  assert.equal(native.kdfWaiting(), 0)
  const order = []
  // An expensive hash first, then cheap ones: a free-for-all would finish the cheap ones
  // first; the gate makes each start only after the one before it finished.
  const jobs = [native.passwordHashArgon2id('big', BIG), ...['a', 'b', 'c', 'd'].map((pw) => native.passwordHashArgon2id(pw, SMALL))]
  jobs.forEach((p, i) => p.then(() => order.push(i)))
  assert.equal(native.kdfWaiting(), 4)
  const hashes = await Promise.all(jobs)
  assert.equal(native.kdfWaiting(), 0)
  assert.deepEqual(order, [0, 1, 2, 3, 4])
  assert.ok(await native.passwordVerifyArgon2('big', hashes[0]))
  assert.ok(await native.passwordVerifyArgon2('c', hashes[3]))
  assert.equal(await native.passwordVerifyArgon2('x', hashes[3]), false)
})

test('with a larger limit, a cheap job overtakes an expensive one', async (t) => {
  const before = native.kdfConcurrency()
  t.after(() => native.setKdfConcurrency(before))
  native.setKdfConcurrency(2)
  const order = []
  const jobs = [native.passwordHashArgon2id('big', BIG), native.passwordHashArgon2id('small', SMALL)]
  jobs.forEach((p, i) => p.then(() => order.push(i)))
  assert.equal(native.kdfWaiting(), 0)
  await Promise.all(jobs)
  assert.deepEqual(order, [1, 0])
})

test('raising the limit starts waiting jobs at once; a limit outside 1..1024 throws', async (t) => {
  const before = native.kdfConcurrency()
  t.after(() => native.setKdfConcurrency(before))
  native.setKdfConcurrency(1)
  const jobs = Array.from({ length: 5 }, (_, i) => native.bcryptHash(`pw${i}`, 4))
  assert.equal(native.kdfWaiting(), 4)
  native.setKdfConcurrency(3)
  assert.equal(native.kdfWaiting(), 2)
  const hashes = await Promise.all(jobs)
  for (const [i, h] of hashes.entries()) assert.ok(await native.bcryptVerify(`pw${i}`, h))
  // Fails closed: -1 used to become 4294967295 (unlimited), NaN and 0 became 1.
  for (const bad of [0, -1, NaN, 1.5, 1025]) {
    assert.throws(() => native.setKdfConcurrency(bad), { code: 'INVALID_ARGUMENT', message: 'kdfConcurrency must be an integer between 1 and 1024' })
  }
  assert.equal(native.kdfConcurrency(), 3)
})

test('queued jobs that fail reject with the typed error and free their slot', async (t) => {
  const before = native.kdfConcurrency()
  t.after(() => native.setKdfConcurrency(before))
  native.setKdfConcurrency(1)
  const bad = [
    native.passwordVerifyArgon2('pw', 'not a hash'),
    native.bcryptVerify('pw', '$2x$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'),
    native.passwordHashArgon2id('pw', { memoryCost: 1, timeCost: 1, parallelism: 1 }),
  ]
  const good = native.passwordHashArgon2id('ok', SMALL)
  assert.equal(native.kdfWaiting(), 3)
  const settled = await Promise.allSettled(bad)
  assert.deepEqual(settled.map((s) => s.status), ['rejected', 'rejected', 'rejected'])
  for (const s of settled) {
    assert.ok(s.reason instanceof Error)
    assert.match(s.reason.code, /^PASSWORD_/)
    assert.equal(typeof s.reason.status, 'number')
  }
  assert.ok(await native.passwordVerifyArgon2('ok', await good))
  assert.equal(native.kdfWaiting(), 0)
})

test('the PasswordHasher class and RSA key generation go through the same gate', async (t) => {
  const before = native.kdfConcurrency()
  t.after(() => native.setKdfConcurrency(before))
  const hasher = await native.createPasswordHasher(SMALL)
  native.setKdfConcurrency(1)
  const jobs = [hasher.hash('one'), native.generateRsaKeypair(2048), hasher.verifyAndUpgrade('two', null)]
  assert.equal(native.kdfWaiting(), 2)
  const [h, pair, unknownUser] = await Promise.all(jobs)
  assert.ok(await hasher.verify('one', h))
  assert.match(pair.privateKey, /BEGIN PRIVATE KEY/)
  assert.equal(unknownUser.valid, false)
})
