// The alias app: an app written only against @naskot/node-hmac-auth-core, installed in a
// temporary directory with "@naskot/node-hmac-auth-core": "file:<our package>" (express
// and redis from the npm cache), runs unchanged against the real Redis.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, copyFileSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const here = dirname(fileURLToPath(import.meta.url))
const pkgDir = resolve(here, '..')
const require = createRequire(import.meta.url)
const version = (name) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version

test('an app written for @naskot/node-hmac-auth-core runs unchanged on our package', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'naskot-alias-'))
  try {
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'naskot-alias-app',
        private: true,
        type: 'module',
        dependencies: {
          '@naskot/node-hmac-auth-core': `file:${pkgDir}`,
          express: version('express'),
          redis: version('redis'),
        },
      }),
    )
    copyFileSync(join(here, 'alias-app', 'app.mjs.fixture'), join(dir, 'app.mjs'))
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'pipe' })
    const ns = `alias_${process.pid}_${Date.now()}`
    const out = execFileSync(process.execPath, ['app.mjs'], {
      cwd: dir,
      env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:6379', HMAC_NAMESPACE: ns },
      encoding: 'utf8',
    })
    const r = JSON.parse(out.trim().split('\n').pop())
    assert.deepEqual(r.post, [200, { caller: 'billing', order: { id: 7, items: [1, 2] } }])
    assert.deepEqual(r.get, [200, { ok: true, caller: 'billing' }])
    assert.deepEqual(r.wrongSecret, [401, { error: 'BAD_SIGNATURE', message: 'Invalid HMAC signature' }])
    assert.deepEqual(r.unsigned, [401, { error: 'MISSING_CLIENT_ID', message: 'Missing header x-client-id' }])
    assert.equal(r.errorClass, true)
    assert.deepEqual(Object.keys(r.stored), ['secretHash', 'createdAt', 'updatedAt', 'expiresAt', 'allowedIps'])
    assert.match(r.stored.secretHash, /^[0-9a-f]{64}$/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
