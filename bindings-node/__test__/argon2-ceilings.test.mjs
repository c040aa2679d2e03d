// argon2 verification refuses stored parameters beyond the ceilings (default m <= 256 MiB,
// t <= 10, p <= 8) before any memory is allocated; the ceilings are configurable, and a
// hasher's own parameters must be within its ceilings.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const native = createRequire(import.meta.url)('../index.js')
const FAST = { memoryCost: 1024, timeCost: 1, parallelism: 1 }

test('stored hashes beyond the default ceilings are refused', async () => {
  const good = native.passwordHashArgon2idSync('pw', FAST)
  assert.equal(native.passwordVerifyArgon2Sync('pw', good), true)
  for (const [from, to] of [['m=1024', 'm=262145'], ['t=1', 't=11'], ['p=1', 'p=9']]) {
    const tampered = good.replace(from, to)
    assert.throws(() => native.passwordVerifyArgon2Sync('pw', tampered), (e) => e.code === 'PASSWORD_INVALID_PARAMS')
    await assert.rejects(native.passwordVerifyArgon2('pw', tampered), (e) => e.code === 'PASSWORD_INVALID_PARAMS')
  }
  // Configurable: stricter or looser per call.
  assert.throws(() => native.passwordVerifyArgon2Sync('pw', good, { maxMemoryCost: 512 }), (e) => e.code === 'PASSWORD_INVALID_PARAMS')
  assert.equal(native.passwordVerifyArgon2Sync('pw', good.replace('t=1', 't=11'), { maxTimeCost: 11 }), false)
})

test('a PasswordHasher applies its own ceilings', async () => {
  const strict = native.createPasswordHasherSync({ ...FAST, maxVerifyMemoryCost: 1024, maxVerifyTimeCost: 1 })
  const h = native.passwordHashArgon2idSync('pw', FAST)
  assert.equal((await strict.verifyAndUpgrade('pw', h)).valid, true)
  await assert.rejects(strict.verifyAndUpgrade('pw', native.passwordHashArgon2idSync('pw', { ...FAST, memoryCost: 2048 })), (e) => e.code === 'PASSWORD_INVALID_PARAMS')
  assert.throws(() => native.createPasswordHasherSync({ memoryCost: 524288 }), /ceilings/)
})

test('argon2 settings are numbers checked by the core (a cast made -1 a 4 TiB memory cost)', () => {
  for (const bad of [-1, NaN, 1.5, Infinity]) {
    assert.throws(() => native.passwordHashArgon2idSync('pw', { ...FAST, memoryCost: bad }), (e) => e.code === 'PASSWORD_INVALID_PARAMS', String(bad))
    assert.throws(() => native.passwordHashArgon2id('pw', { ...FAST, timeCost: bad }), (e) => e.code === 'PASSWORD_INVALID_PARAMS')
    assert.throws(() => native.createPasswordHasherSync({ ...FAST, maxPasswordBytes: bad }), (e) => e.code === 'PASSWORD_INVALID_PARAMS')
    assert.throws(() => native.passwordVerifyArgon2Sync('pw', native.passwordHashArgon2idSync('pw', FAST), { maxMemoryCost: bad }), (e) => e.code === 'PASSWORD_INVALID_PARAMS')
  }
})
