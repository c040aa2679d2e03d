// TokenManager refresh records and AuthorizationServer codes in the real Redis
// (127.0.0.1:6379): two instances (as two processes would) share one rotation state and one
// single-use code; the *Async methods do the round trip off the event loop; only hashes are
// stored; a dead Redis is a typed 503 error; a bad URL is rejected at construction.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { randomUUID, createHash } from 'node:crypto'
import { createClient } from 'redis'

const native = createRequire(import.meta.url)('../index.js')
const REDIS_URL = 'redis://127.0.0.1:6379'
const prefix = `node-test:${randomUUID()}`
const redis = await createClient({ url: REDIS_URL }).connect()
after(async () => {
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) {
    if (keys.length) await redis.del(keys)
  }
  await redis.quit()
})

function manager(store = REDIS_URL) {
  const ks = new native.KeySet()
  ks.addHmac('shared-signing-secret-of-32-bytes!')
  return new native.TokenManager(ks, { issuer: 'https://auth.example.com', store, keyPrefix: prefix })
}
const claims = { userId: 'u1', domainId: 'd1', scope: 'read' }
const VERIFIER = 'dBjftJeZ4CVP-mJ0kzjjxXkbjJvd7cuP2FV4JEx3ZRL'

test('rotation and reuse detection are shared between two managers', async () => {
  const [a, b] = [manager(), manager()]
  const first = await a.createTokenPairAsync(claims)
  assert.equal((await b.verifyRefreshTokenAsync(first.refreshToken)).valid, true)
  const second = await b.refreshAsync(first.refreshToken)
  assert.equal(second.familyId, first.familyId)
  await assert.rejects(a.refreshAsync(first.refreshToken), (e) => e.code === 'REFRESH_TOKEN_REUSED' && e.status === 401)
  // Reuse revoked the family, including the pair B just issued.
  assert.throws(() => b.refresh(second.refreshToken), (e) => e.code === 'REFRESH_TOKEN_REVOKED')
  const rec = await redis.hGetAll(`${prefix}:refresh:${JSON.parse(Buffer.from(first.refreshToken.split('.')[1], 'base64url')).jti}`)
  assert.deepEqual(Object.keys(rec).sort(), ['exp', 'fam', 'hash', 'state', 'user'])
  assert.equal(rec.state, 'revoked')
  assert.ok(!Object.values(rec).includes(first.refreshToken), 'only the hash is stored')
  // Sync and async twins see the same store.
  const third = a.createTokenPair(claims)
  assert.equal(b.verifyRefreshToken(third.refreshToken).valid, true)
  assert.equal(await b.revokeUserAsync('u1'), 1)
  assert.equal(a.verifyRefreshToken(third.refreshToken).error, 'REFRESH_TOKEN_REVOKED')
  assert.equal(await a.revokeRefreshTokenAsync(third.refreshToken), 0)
})

test('concurrent async refreshes of one token have exactly one winner', async () => {
  const pair = manager().createTokenPair(claims)
  const managers = Array.from({ length: 8 }, () => manager())
  await Promise.all(managers.map((m) => m.verifyRefreshTokenAsync(pair.refreshToken)))
  const results = await Promise.allSettled(managers.map((m) => m.refreshAsync(pair.refreshToken)))
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  for (const r of results.filter((r) => r.status === 'rejected')) {
    assert.ok(['REFRESH_TOKEN_REUSED', 'REFRESH_TOKEN_REVOKED'].includes(r.reason.code), r.reason.code)
  }
})

test('authorization codes are single use across two servers and expire in Redis', async () => {
  const opts = { store: REDIS_URL, keyPrefix: prefix }
  const [a, b] = [new native.AuthorizationServer(opts), new native.AuthorizationServer(opts)]
  const params = { clientId: 'c1', userId: 'u1', domainId: 'd1', redirectUri: 'https://app/cb', codeChallenge: native.pkceS256Challenge(VERIFIER), scope: 'read' }
  const code = await a.createCodeAsync(params)
  const key = `${prefix}:oauth-code:${createHash('sha256').update(code).digest('hex')}`
  const pttl = await redis.pTTL(key)
  assert.ok(pttl > 0 && pttl <= 60_000, `pttl ${pttl}`)
  const ex = { code, clientId: 'c1', redirectUri: 'https://app/cb', codeVerifier: VERIFIER }
  assert.deepEqual({ ...(await b.exchangeCodeAsync(ex)) }, { userId: 'u1', domainId: 'd1', scope: 'read', clientId: 'c1' })
  await assert.rejects(a.exchangeCodeAsync(ex), (e) => e.code === 'AUTH_CODE_REUSED' && e.status === 400)
  assert.throws(() => b.exchangeCode(ex), (e) => e.code === 'AUTH_CODE_REUSED')
  assert.equal(a.purgeExpired(), 0)
})

test('a dead Redis is a typed 503 error; a bad URL is rejected at construction', async () => {
  const dead = manager('redis://127.0.0.1:1')
  await assert.rejects(dead.createTokenPairAsync(claims), (e) => e.code === 'JWT_STORE_UNAVAILABLE' && e.status === 503)
  assert.throws(() => dead.createTokenPair(claims), (e) => e.code === 'JWT_STORE_UNAVAILABLE')
  assert.equal((await dead.verifyRefreshTokenAsync('a.b.c')).valid, false)
  const srv = new native.AuthorizationServer({ store: 'redis://127.0.0.1:1' })
  await assert.rejects(
    srv.createCodeAsync({ clientId: 'c', userId: 'u', domainId: 'd', redirectUri: 'https://app/cb', codeChallenge: native.pkceS256Challenge(VERIFIER), scope: '' }),
    (e) => e.code === 'OAUTH_STORE_UNAVAILABLE' && e.status === 503,
  )
  assert.throws(() => manager('redis://[::1'), (e) => e.code === 'INVALID_ARGUMENT')
  assert.throws(() => new native.AuthorizationServer({ store: 'redis://[::1' }), (e) => e.code === 'INVALID_ARGUMENT')
  // The default (and memory://) needs no server.
  const mem = manager('memory://')
  const p = await mem.createTokenPairAsync(claims)
  assert.ok((await mem.refreshAsync(p.refreshToken)).accessToken)
})

test('the code grant issues tokens; a replay on another server revokes them (memory and Redis)', async () => {
  const params = { clientId: 'c1', userId: 'u1', domainId: 'd1', redirectUri: 'https://app/cb', codeChallenge: native.pkceS256Challenge(VERIFIER), scope: 'read' }
  for (const store of ['memory://', REDIS_URL]) {
    const tm = manager(store)
    const a = new native.AuthorizationServer({ store, keyPrefix: prefix })
    // With memory:// a second server would have its own codes: replay on the same one.
    const b = store === REDIS_URL ? new native.AuthorizationServer({ store, keyPrefix: prefix }) : a
    const code = a.createCode(params)
    const ex = { code, clientId: 'c1', redirectUri: 'https://app/cb', codeVerifier: VERIFIER }
    const pair = await a.exchangeCodeForTokensAsync(ex, tm)
    const access = tm.verifyAccessToken(pair.accessToken)
    assert.deepEqual([access.userId, access.domainId, access.scope], ['u1', 'd1', 'read'])
    assert.equal(tm.verifyRefreshToken(pair.refreshToken).valid, true)
    assert.throws(() => b.exchangeCodeForTokens(ex, tm), (e) => e.code === 'AUTH_CODE_REUSED' && e.status === 400)
    assert.equal(tm.verifyRefreshToken(pair.refreshToken).error, 'REFRESH_TOKEN_REVOKED', store)
  }
})
