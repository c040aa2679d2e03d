// TokenService: node-auth's tests/token.service.test.ts, npm jsonwebtoken cross-checks in
// both directions, and the negative cases (each with its typed cause).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import jwt from 'jsonwebtoken'
import { TokenService, AuthError, native } from '@authcore/node-auth-core'
import { config, user, mockRes, nowS } from './helpers.mjs'

const ts = new TokenService()
const cause = (code) => (e) => e instanceof AuthError && e.cause?.code === code

// ---- node-auth tests/token.service.test.ts --------------------------------------------
test('generateTokenPair returns both tokens', () => {
  const p = ts.generateTokenPair(user, config())
  assert.equal(typeof p.accessToken, 'string')
  assert.equal(typeof p.refreshToken, 'string')
  assert.deepEqual(Object.keys(p), ['accessToken', 'refreshToken'])
})

test('verifyAccessToken returns sub, email and role; verifyRefreshToken returns sub', () => {
  const p = ts.generateTokenPair(user, config())
  const a = ts.verifyAccessToken(p.accessToken, config())
  assert.equal(a.sub, 'u1')
  assert.equal(a.email, 'alice@example.com')
  assert.equal(a.role, 'user')
  assert.equal(ts.verifyRefreshToken(p.refreshToken, config()).sub, 'u1')
})

test('invalid access and refresh tokens throw AuthError with node-auth codes', () => {
  assert.throws(() => ts.verifyAccessToken('invalid.token.here', config()), (e) => e instanceof AuthError && e.code === 'INVALID_ACCESS_TOKEN' && e.statusCode === 401 && e.message === 'Invalid or expired access token')
  assert.throws(() => ts.verifyRefreshToken('invalid.token.here', config()), (e) => e.code === 'INVALID_REFRESH_TOKEN' && e.statusCode === 401 && e.name === 'AuthError')
})

test('generateSecureToken() is 64 hex chars and unique', () => {
  const a = ts.generateSecureToken()
  assert.match(a, /^[0-9a-f]{64}$/)
  assert.notEqual(a, ts.generateSecureToken())
  assert.match(ts.generateSecureToken(16), /^[0-9a-f]{32}$/)
})

test('custom claims survive in the access and the refresh token; iat/exp from the payload are replaced', () => {
  const p = ts.generateTokenPair({ ...user, permissions: ['a', 'b'], tenantId: 't1', iat: 1, exp: 2 }, config())
  const a = ts.verifyAccessToken(p.accessToken, config())
  const r = ts.verifyRefreshToken(p.refreshToken, config())
  for (const c of [a, r]) {
    assert.deepEqual(c.permissions, ['a', 'b'])
    assert.equal(c.tenantId, 't1')
    assert.ok(c.iat > 1000)
  }
  assert.equal(a.exp - a.iat, 15 * 60)
  assert.equal(r.exp - r.iat, 7 * 24 * 3600)
  // Key order: claims, token_use, iat, exp (jsonwebtoken appends iat then exp).
  assert.deepEqual(Object.keys(a), ['sub', 'email', 'role', 'permissions', 'tenantId', 'token_use', 'iat', 'exp'])
})

test('expiresIn strings and numbers follow jsonwebtoken (ms syntax)', () => {
  for (const [v, secs] of [['1h', 3600], ['2 days', 172800], [90, 90], ['1.5m', 90]]) {
    const p = ts.generateTokenPair(user, config({ accessTokenExpiresIn: v }))
    const a = jwt.decode(p.accessToken)
    assert.equal(a.exp - a.iat, secs, String(v))
    const ref = jwt.decode(jwt.sign({ x: 1, iat: a.iat }, 's', { expiresIn: v }))
    assert.equal(ref.exp - ref.iat, secs)
  }
  assert.throws(() => ts.generateTokenPair(user, config({ accessTokenExpiresIn: 'soon' })), /expiresIn/)
})

test('sign-time checks are jsonwebtoken\'s: integer or timespan expiresIn, numeric nbf, key material (same messages)', () => {
  const msg = (m) => (e) => e.constructor === Error && e.message === m
  const theirs = (claims, secret, opts) => {
    try {
      jwt.sign(claims, secret, opts)
    } catch (e) {
      return e.message
    }
    return null
  }
  const cases = [
    [user, config({ accessTokenExpiresIn: 1.5 }), { expiresIn: 1.5 }],
    [user, config({ accessTokenExpiresIn: NaN }), { expiresIn: NaN }],
    [user, config({ accessTokenExpiresIn: 'soon' }), { expiresIn: 'soon' }],
    [{ ...user, nbf: 'tomorrow' }, config(), { expiresIn: '15m' }],
  ]
  for (const [claims, cfg, opts] of cases) {
    const m = theirs(claims, cfg.accessTokenSecret, opts)
    assert.ok(m, JSON.stringify(opts))
    assert.throws(() => ts.generateTokenPair(claims, cfg), msg(m))
  }
  for (const secret of ['', undefined, 42, {}]) {
    const m = theirs({ a: 1 }, secret, { expiresIn: 60 })
    assert.throws(() => ts.generateTokenPair(user, config({ accessTokenSecret: secret })), msg(m), String(secret))
  }
})

test('tokens with a token_use that is not ours (an IdP\'s "id" token) verify, as in jsonwebtoken', () => {
  const cfg = config()
  for (const use of ['id', 7]) {
    const a = jwt.sign({ sub: 'u1', token_use: use }, cfg.accessTokenSecret, { expiresIn: 60 })
    const r = jwt.sign({ sub: 'u1', token_use: use }, cfg.refreshTokenSecret, { expiresIn: 60 })
    assert.equal(ts.verifyAccessToken(a, cfg).token_use, use)
    assert.equal(ts.verifyRefreshToken(r, cfg).token_use, use)
  }
})

// ---- cookies ----------------------------------------------------------------------
test('setTokenCookies sets accessToken and refreshToken; clearTokenCookies clears accessToken', () => {
  const res = mockRes()
  ts.setTokenCookies(res, { accessToken: 'a', refreshToken: 'r' }, config())
  assert.equal(res.named('accessToken').value, 'a')
  assert.equal(res.named('refreshToken').value, 'r')
  assert.equal(res.named('accessToken').opts.httpOnly, true)
  assert.equal(res.named('accessToken').opts.maxAge, 15 * 60 * 1000)
  ts.clearTokenCookies(res, config())
  assert.ok(res.cleared.some((c) => c.name === 'accessToken'))
})

test('refresh cookie path: default, refreshTokenPath, apiPrefix, explicit beats apiPrefix; clear uses the same', () => {
  const path = (cfg) => {
    const res = mockRes()
    ts.setTokenCookies(res, { accessToken: 'a', refreshToken: 'r' }, cfg)
    ts.clearTokenCookies(res, cfg)
    const cleared = res.cleared.find((c) => c.name === 'refreshToken').opts.path
    assert.equal(cleared, res.named('refreshToken').opts.path)
    return cleared
  }
  assert.equal(path(config()), '/auth/refresh')
  assert.equal(path(config({ cookieOptions: { refreshTokenPath: '/x/refresh' } })), '/x/refresh')
  assert.equal(path(config({ apiPrefix: '/api/v1' })), '/api/v1/refresh')
  assert.equal(path(config({ apiPrefix: '/api/v1', cookieOptions: { refreshTokenPath: '/r' } })), '/r')
})

test('CSRF cookie: absent when off, non-HttpOnly when on, cleared; initCsrfToken follows the flag', () => {
  const off = mockRes()
  ts.setTokenCookies(off, { accessToken: 'a', refreshToken: 'r' }, config())
  assert.equal(off.named('csrf-token'), undefined)
  const on = mockRes()
  const cfg = config({ csrf: { enabled: true } })
  ts.setTokenCookies(on, { accessToken: 'a', refreshToken: 'r' }, cfg)
  assert.equal(on.named('csrf-token').opts.httpOnly, false)
  assert.match(on.named('csrf-token').value, /^[0-9a-f]{32}$/)
  ts.clearTokenCookies(on, cfg)
  assert.ok(on.cleared.some((c) => c.name === 'csrf-token'))
  const init = mockRes()
  ts.initCsrfToken(init, cfg)
  assert.ok(init.named('csrf-token'))
  const noInit = mockRes()
  ts.initCsrfToken(noInit, config())
  assert.equal(noInit.set.length, 0)
})

test('token extraction: raw Cookie header, req.cookies, null without cookie, prefix preference', () => {
  assert.equal(ts.extractTokenFromCookie({ headers: { cookie: 'a=1; accessToken=tok%20x' } }, 'accessToken'), 'tok x')
  assert.equal(ts.extractTokenFromCookie({ cookies: { accessToken: 'p' }, headers: {} }, 'accessToken'), 'p')
  assert.equal(ts.extractTokenFromCookie({ headers: {} }, 'accessToken'), null)
  const req = { headers: { cookie: 'accessToken=plain; __Secure-accessToken=sec; __Host-accessToken=host' } }
  assert.equal(ts.extractTokenFromCookie(req, 'accessToken'), 'host')
  assert.equal(ts.extractTokenFromCookie({ headers: { cookie: 'accessToken=plain; __Secure-accessToken=sec' } }, 'accessToken'), 'sec')
})

test('cookie prefixes: __Host- (root path, no domain), __Secure- (path or domain), none when not secure', () => {
  const host = mockRes()
  const hostCfg = config({ cookieOptions: { secure: true }, csrf: { enabled: true } })
  ts.setTokenCookies(host, { accessToken: 'a', refreshToken: 'r' }, hostCfg)
  assert.ok(host.named('__Host-accessToken'))
  assert.equal(host.named('__Host-accessToken').opts.domain, undefined)
  assert.ok(host.named('__Host-csrf-token'))
  assert.equal(host.named('csrf-token'), undefined)
  ts.clearTokenCookies(host, hostCfg)
  const hr = host.cleared.find((c) => c.name === '__Host-refreshToken')
  assert.equal(hr.opts.path, '/')
  assert.equal(hr.opts.secure, true)
  for (const base of ['accessToken', 'refreshToken', 'csrf-token']) {
    for (const n of [`__Host-${base}`, `__Secure-${base}`, base]) {
      assert.ok(host.cleared.some((c) => c.name === n), n)
    }
  }
  const sec = mockRes()
  ts.setTokenCookies(sec, { accessToken: 'a', refreshToken: 'r' }, config({ cookieOptions: { secure: true, path: '/api' } }))
  assert.ok(sec.named('__Secure-accessToken'))
  const dom = mockRes()
  ts.setTokenCookies(dom, { accessToken: 'a', refreshToken: 'r' }, config({ cookieOptions: { secure: true, domain: 'example.com' } }))
  assert.equal(dom.named('__Secure-accessToken').opts.domain, 'example.com')
  const plain = mockRes()
  ts.initCsrfToken(plain, config({ csrf: { enabled: true } }))
  assert.ok(plain.named('csrf-token'))
  const initHost = mockRes()
  ts.initCsrfToken(initHost, hostCfg)
  assert.ok(initHost.named('__Host-csrf-token'))
})

test('__Host- cookies are Path=/ and Secure, the refresh cookie included (browsers drop any other __Host- cookie)', () => {
  for (const cfg of [
    config({ cookieOptions: { secure: true } }),
    config({ cookieOptions: { secure: true, refreshTokenPath: '/api/auth/refresh' }, apiPrefix: '/api/auth' }),
    config({ cookieOptions: { secure: 1, path: '/' }, csrf: { enabled: true } }),
  ]) {
    const res = mockRes()
    ts.setTokenCookies(res, { accessToken: 'a', refreshToken: 'r' }, cfg)
    ts.initCsrfToken(res, cfg)
    const names = res.set.map((c) => c.name)
    assert.ok(names.includes('__Host-refreshToken'), names.join())
    for (const c of res.set) {
      assert.ok(c.name.startsWith('__Host-'), c.name)
      assert.equal(c.opts.path, '/', c.name)
      assert.equal(c.opts.secure, true, c.name)
      assert.equal('domain' in c.opts, false, c.name)
    }
  }
  // __Secure- keeps the refresh path (node-auth: only __Host- forces Path=/).
  const sec = mockRes()
  ts.setTokenCookies(sec, { accessToken: 'a', refreshToken: 'r' }, config({ cookieOptions: { secure: true, domain: 'example.com' } }))
  assert.equal(sec.named('__Secure-refreshToken').opts.path, '/auth/refresh')
})

// ---- cross-verification with npm jsonwebtoken ------------------------------------------
test('our HS256 tokens verify in jsonwebtoken, and jsonwebtoken tokens verify in ours', () => {
  const p = ts.generateTokenPair(user, config())
  const viaJwt = jwt.verify(p.accessToken, config().accessTokenSecret)
  assert.equal(viaJwt.sub, 'u1')
  assert.equal(jwt.decode(p.accessToken, { complete: true }).header.alg, 'HS256')
  for (const algorithm of ['HS256', 'HS384', 'HS512']) {
    const theirs = jwt.sign({ ...user, custom: { n: 1 } }, config().accessTokenSecret, { algorithm, expiresIn: '5m' })
    const ours = ts.verifyAccessToken(theirs, config())
    assert.deepEqual(ours, jwt.verify(theirs, config().accessTokenSecret), algorithm)
    assert.deepEqual(Object.keys(ours), Object.keys(jwt.decode(theirs)))
  }
})

test('same payload text, same secret: byte-identical to jsonwebtoken.sign', () => {
  const payload = { sub: 'u1', email: 'alice@example.com', n: 1.5, nested: { b: [1, 'x'] }, iat: 1700000000, exp: 1700000900 }
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    const ks = new native.KeySet()
    ks.addHmac('k', { alg })
    assert.equal(ks.sign(JSON.stringify(payload)), jwt.sign(payload, 'k', { algorithm: alg }), alg)
  }
})

test('RS256 and ES256: ours verify in jsonwebtoken and theirs in ours', () => {
  for (const [type, alg, opts] of [['rsa', 'RS256', { modulusLength: 2048 }], ['ec', 'ES256', { namedCurve: 'P-256' }]]) {
    const { privateKey, publicKey } = crypto.generateKeyPairSync(type, {
      ...opts,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    })
    const signer = new native.KeySet()
    signer.addPem(privateKey, { kid: 'k1' })
    const ours = signer.sign(JSON.stringify({ sub: 'u1', exp: nowS() + 60 }))
    const decoded = jwt.verify(ours, publicKey, { algorithms: [alg] })
    assert.equal(decoded.sub, 'u1')
    assert.equal(jwt.decode(ours, { complete: true }).header.kid, 'k1')
    const theirs = jwt.sign({ sub: 'u2' }, privateKey, { algorithm: alg, keyid: 'k1', expiresIn: 60 })
    const verifier = new native.KeySet()
    verifier.addPem(publicKey, { kid: 'k1' })
    assert.equal(JSON.parse(verifier.verify(theirs)).sub, 'u2')
    if (alg === 'RS256') {
      // RSASSA-PKCS1-v1_5 is deterministic: same bytes as jsonwebtoken.
      const payload = JSON.stringify({ sub: 'u3', iat: 1700000000 })
      const kid = new native.KeySet()
      kid.addPem(privateKey)
      assert.equal(kid.sign(payload), jwt.sign(JSON.parse(payload), privateKey, { algorithm: 'RS256' }))
    }
  }
})

// ---- negative cases ----------------------------------------------------------------
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')

test('alg none is rejected (typed JWT_ALG_NONE)', () => {
  const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'u1' })}.`
  assert.throws(() => ts.verifyAccessToken(token, config()), cause('JWT_ALG_NONE'))
  assert.throws(() => jwt.verify(token, config().accessTokenSecret))
})

test('algorithm confusion: HS256 signed with the RSA public key PEM is rejected', () => {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'admin' })}`
  const sig = crypto.createHmac('sha256', publicKey).update(head).digest('base64url')
  const ks = new native.KeySet()
  ks.addPem(publicKey)
  assert.throws(() => ks.verify(`${head}.${sig}`), (e) => e.code === 'JWT_ALGORITHM_MISMATCH' && e.status === 401)
  // The genuine RS256 token still verifies.
  const ok = jwt.sign({ sub: 'u1' }, privateKey, { algorithm: 'RS256' })
  assert.equal(JSON.parse(ks.verify(ok)).sub, 'u1')
})

test('expired, not yet valid, tampered and wrong-secret tokens are rejected with typed causes', () => {
  const s = config().accessTokenSecret
  const now = nowS()
  assert.throws(() => ts.verifyAccessToken(jwt.sign({ sub: 'u', exp: now - 1 }, s), config()), cause('JWT_EXPIRED'))
  assert.throws(() => ts.verifyAccessToken(jwt.sign({ sub: 'u', nbf: now + 60 }, s), config()), cause('JWT_NOT_YET_VALID'))
  const good = jwt.sign({ sub: 'u' }, s)
  const tampered = good.replace(/\.[^.]+\./, `.${b64({ sub: 'admin' })}.`)
  assert.throws(() => ts.verifyAccessToken(tampered, config()), cause('JWT_INVALID_SIGNATURE'))
  assert.throws(() => ts.verifyAccessToken(jwt.sign({ sub: 'u' }, 'other'), config()), cause('JWT_INVALID_SIGNATURE'))
  assert.throws(() => ts.verifyAccessToken('a.b', config()), cause('JWT_MALFORMED'))
  // exp exactly now is expired (jsonwebtoken: now >= exp).
  const ks = new native.KeySet()
  ks.addHmac(s)
  assert.throws(() => ks.verify(jwt.sign({ sub: 'u', exp: 100 }, s), { now: 100 }), (e) => e.code === 'JWT_EXPIRED')
  assert.equal(JSON.parse(ks.verify(jwt.sign({ sub: 'u', exp: 100 }, s), { now: 99 })).sub, 'u')
  assert.equal(JSON.parse(ks.verify(jwt.sign({ sub: 'u', exp: 100 }, s), { now: 104, leeway: 5 })).sub, 'u')
})

test('issuer and audience checks (typed)', () => {
  const ks = new native.KeySet()
  ks.addHmac('k')
  const t = jwt.sign({ sub: 'u' }, 'k', { issuer: 'https://idp', audience: ['api', 'web'] })
  assert.equal(JSON.parse(ks.verify(t, { issuer: ['https://idp'], audience: ['web'] })).sub, 'u')
  assert.throws(() => ks.verify(t, { issuer: ['https://evil'] }), (e) => e.code === 'JWT_INVALID_ISSUER')
  assert.throws(() => ks.verify(t, { audience: ['admin'] }), (e) => e.code === 'JWT_INVALID_AUDIENCE')
})

test('swapped tokens: a refresh token is not an access token even with equal secrets (§6 item 22)', () => {
  const same = config({ refreshTokenSecret: 'one-secret', accessTokenSecret: 'one-secret' })
  const p = ts.generateTokenPair(user, same)
  assert.throws(() => ts.verifyAccessToken(p.refreshToken, same), cause('JWT_WRONG_TOKEN_USE'))
  assert.throws(() => ts.verifyRefreshToken(p.accessToken, same), cause('JWT_WRONG_TOKEN_USE'))
  // node-auth with equal secrets accepts both (no typ claim): the bug we fix.
  assert.equal(jwt.verify(p.refreshToken, 'one-secret').sub, 'u1')
  // Tokens issued by node-auth itself (no token_use) still verify: migration keeps sessions.
  const legacy = jwt.sign({ sub: 'u1' }, 'one-secret', { expiresIn: '15m' })
  assert.equal(ts.verifyAccessToken(legacy, same).sub, 'u1')
})

test('2FA temp token is never accepted as an access token (§6 item 1)', () => {
  const temp = ts.generateTempToken(user, config())
  assert.throws(() => ts.verifyAccessToken(temp, config()), cause('JWT_WRONG_TOKEN_USE'))
  const claims = ts.verifyTempToken(temp, config())
  assert.equal(claims.sub, 'u1')
  assert.equal(claims.exp - claims.iat, 300)
  const access = ts.generateTokenPair(user, config()).accessToken
  assert.throws(() => ts.verifyTempToken(access, config()), (e) => e.code === 'INVALID_TOKEN' && e.cause.code === 'JWT_WRONG_TOKEN_USE')
})

test('refresh tokens are compared hashed and in constant time, never with !== (§6 items 22, 29)', () => {
  const { refreshToken } = ts.generateTokenPair(user, config())
  const stored = ts.hashRefreshToken(refreshToken)
  assert.match(stored, /^[0-9a-f]{64}$/)
  assert.equal(stored, crypto.createHash('sha256').update(refreshToken).digest('hex'))
  assert.equal(ts.compareRefreshToken(refreshToken, stored), true)
  assert.equal(ts.compareRefreshToken(refreshToken, refreshToken), true) // legacy plaintext record
  assert.equal(ts.compareRefreshToken(refreshToken.slice(0, -1) + 'x', stored), false)
  assert.equal(ts.compareRefreshToken(refreshToken, null), false)
})

test('reused refresh token: rotation detects reuse and revokes the family (TokenManager)', () => {
  const keys = new native.KeySet()
  keys.addHmac('tm-secret', { alg: 'HS256' })
  const tm = new native.TokenManager(keys, { issuer: 'https://auth.example' })
  const now = nowS()
  const first = tm.createTokenPair({ userId: 'u1', domainId: 'd1', scope: 'read' }, now)
  assert.equal(tm.verifyAccessToken(first.accessToken, now).userId, 'u1')
  const second = tm.refresh(first.refreshToken, now)
  assert.equal(second.familyId, first.familyId)
  assert.throws(() => tm.refresh(first.refreshToken, now), (e) => e.code === 'REFRESH_TOKEN_REUSED' && e.status === 401)
  assert.throws(() => tm.refresh(second.refreshToken, now), (e) => e.code === 'REFRESH_TOKEN_REVOKED')
  assert.deepEqual({ ...tm.verifyRefreshToken(second.refreshToken, now) }, { valid: false, error: 'REFRESH_TOKEN_REVOKED' })
  // Swaps and 2FA-pending tokens are typed rejections here too.
  assert.throws(() => tm.verifyAccessToken(second.refreshToken, now), (e) => e.code === 'JWT_WRONG_TOKEN_USE')
  const mfa = tm.createMfaPendingToken('u1', 'd1', now)
  assert.throws(() => tm.verifyAccessToken(mfa, now), (e) => e.code === 'JWT_WRONG_TOKEN_USE')
  assert.equal(tm.verifyMfaPendingToken(mfa, now).userId, 'u1')
  assert.throws(() => tm.verifyAccessToken(first.accessToken, now + 901), (e) => e.code === 'JWT_EXPIRED')
})
