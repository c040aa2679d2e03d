// The names every language shares are the core's (KeySet, passwordHashArgon2id, passwordVerifyArgon2,
// metricsSetEnabled); the older Node names stay exported as the very same objects.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const native = require('../index.js')
const metrics = require('../metrics.js')

const FAST = { memoryCost: 1024, timeCost: 1, parallelism: 1 }

test('@authcore/native: the deprecated names are the same objects as the core names', async () => {
  assert.equal(typeof native.KeySet, 'function')
  assert.equal(native.JwtKeySet, native.KeySet)
  assert.equal(typeof native.passwordHashArgon2id, 'function')
  assert.equal(native.argon2Hash, native.passwordHashArgon2id)
  assert.equal(native.argon2HashSync, native.passwordHashArgon2idSync)
  assert.equal(native.argon2Verify, native.passwordVerifyArgon2)
  assert.equal(native.argon2VerifySync, native.passwordVerifyArgon2Sync)
  assert.equal(native.setMetricsEnabled, native.metricsSetEnabled)
  // And they work: a key set built under the old name signs what the new one verifies.
  const old = new native.JwtKeySet()
  assert.ok(old instanceof native.KeySet)
  old.addHmac('s3cret-s3cret-s3cret-s3cret-s3cret')
  const fresh = new native.KeySet()
  fresh.addHmac('s3cret-s3cret-s3cret-s3cret-s3cret')
  const token = old.sign('{"sub":"u1"}')
  assert.equal(JSON.parse(fresh.verify(token)).sub, 'u1')
  const h = native.argon2HashSync('pw', FAST)
  assert.match(h, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/)
  assert.equal(native.argon2VerifySync('pw', h), true)
  assert.equal(await native.argon2Verify('pw', await native.argon2Hash('pw', FAST)), true)
})

test('@authcore/native/metrics.js: setMetricsEnabled is metricsSetEnabled', () => {
  assert.equal(typeof metrics.metricsSetEnabled, 'function')
  assert.equal(metrics.setMetricsEnabled, metrics.metricsSetEnabled)
  const count = () =>
    metrics.metricsSnapshot().find((f) => f.name === 'authcore_verify_duration_seconds').samples[0].histogram.count
  const before = count()
  metrics.setMetricsEnabled(false)
  try {
    native.verifyObserved('app_names', undefined, 1.5)
    assert.equal(count(), before)
  } finally {
    metrics.metricsSetEnabled(true)
  }
  native.verifyObserved('app_names', undefined, 1.5)
  assert.equal(count(), before + 1)
})
