// JwksService / JwksClient / TokenService IdP mode: node-auth's tests/jwks.service.test.ts
// (service, client, IdP) and the verifyWithJwks negative cases.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import http from 'node:http'
import jwt from 'jsonwebtoken'
import { JwksService, JwksClient, TokenService, AuthError } from '@authcore/node-auth-core'
import { config, user, nowS } from './helpers.mjs'

const pair = JwksService.generateKeypair()

test('generateKeypair returns PEM private and public keys, unique per call', () => {
  assert.match(pair.privateKey, /^-----BEGIN PRIVATE KEY-----\n/)
  assert.match(pair.publicKey, /^-----BEGIN PUBLIC KEY-----\n/)
  const other = JwksService.generateKeypair()
  assert.notEqual(other.privateKey, pair.privateKey)
  // node:crypto reads them as RSA-2048.
  const k = crypto.createPrivateKey(pair.privateKey)
  assert.equal(k.asymmetricKeyType, 'rsa')
  assert.equal(k.asymmetricKeyDetails.modulusLength, 2048)
  assert.equal(crypto.createPublicKey(pair.privateKey).export({ type: 'spki', format: 'pem' }), pair.publicKey)
})

test('generateKeypairAsync runs off the event loop and gives a valid pair', async () => {
  const p = await JwksService.generateKeypairAsync()
  assert.equal(JwksService.derivePublicKey(p.privateKey), p.publicKey)
})

test('derivePublicKey equals the generated public key (and node:crypto\'s derivation)', () => {
  assert.equal(JwksService.derivePublicKey(pair.privateKey), pair.publicKey)
  const nodePair = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  assert.equal(JwksService.derivePublicKey(nodePair.privateKey), nodePair.publicKey)
})

test('publicKeyToJwk: kty RSA, use sig, alg RS256, the kid, string n and e; same as node:crypto export', () => {
  const jwk = JwksService.publicKeyToJwk(pair.publicKey, 'kid-1')
  assert.deepEqual(Object.keys(jwk), ['kty', 'use', 'alg', 'kid', 'n', 'e'])
  assert.equal(jwk.kty, 'RSA')
  assert.equal(jwk.use, 'sig')
  assert.equal(jwk.alg, 'RS256')
  assert.equal(jwk.kid, 'kid-1')
  const ref = crypto.createPublicKey(pair.publicKey).export({ format: 'jwk' })
  assert.equal(jwk.n, ref.n)
  assert.equal(jwk.e, ref.e)
})

test('buildJwksDocument: one key, default kid provisioner-key-1, or a custom kid', () => {
  const doc = JwksService.buildJwksDocument(pair.publicKey)
  assert.equal(doc.keys.length, 1)
  assert.equal(doc.keys[0].kid, 'provisioner-key-1')
  assert.equal(JwksService.buildJwksDocument(pair.publicKey, 'custom').keys[0].kid, 'custom')
})

test('jwkToPublicKey round-trip equals the original PEM', () => {
  const jwk = JwksService.publicKeyToJwk(pair.publicKey, 'k')
  assert.equal(JwksService.jwkToPublicKey(jwk), pair.publicKey)
})

test('createRemoteClient returns a JwksClient carrying the URL; invalidateCache does not throw', () => {
  const c = JwksService.createRemoteClient('https://idp.example/.well-known/jwks.json')
  assert.ok(c instanceof JwksClient)
  assert.equal(c.jwksUrl, 'https://idp.example/.well-known/jwks.json')
  assert.doesNotThrow(() => c.invalidateCache())
})

test('JwksClient fetches, caches, coalesces, refetches after invalidate, and aborts on timeout', async () => {
  let hits = 0
  let mode = 'ok'
  const server = http.createServer((req, res) => {
    hits++
    if (mode === 'hang') return // never answers
    if (mode === '500') {
      res.statusCode = 500
      return res.end('no')
    }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(JwksService.buildJwksDocument(pair.publicKey)))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${server.address().port}/jwks.json`
  try {
    const c = new JwksClient(url, { fetchTimeout: 200 })
    const [a, b] = await Promise.all([c.getJwks(), c.getJwks()])
    assert.equal(hits, 1)
    assert.deepEqual(a, b)
    assert.equal((await c.getKey('provisioner-key-1')).kty, 'RSA')
    assert.equal(await c.getKey('nope'), null)
    assert.equal(hits, 1)
    c.invalidateCache()
    await c.getJwks()
    assert.equal(hits, 2)
    mode = '500'
    const bad = new JwksClient(url)
    await assert.rejects(bad.getJwks(), /status 500/)
    mode = 'hang'
    const slow = new JwksClient(url, { fetchTimeout: 100 })
    const t0 = Date.now()
    await assert.rejects(slow.getJwks(), /timed out/)
    assert.ok(Date.now() - t0 < 2000)
  } finally {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
})

// ---- TokenService IdP mode ---------------------------------------------------------
const ts = new TokenService()
const mockClient = (doc) => {
  const calls = { getKey: 0, invalidate: 0 }
  return {
    calls,
    async getKey(kid) {
      calls.getKey++
      return doc.keys.find((k) => k.kid === kid) ?? null
    },
    invalidateCache() {
      calls.invalidate++
    },
  }
}

test('generateIdProviderTokenPair throws IDP_NOT_ENABLED (500) when IdP is off', () => {
  assert.throws(() => ts.generateIdProviderTokenPair(user, config()), (e) => e instanceof AuthError && e.code === 'IDP_NOT_ENABLED' && e.statusCode === 500 && e.message === 'IdP mode is not enabled')
})

test('IdP payload is node-auth\'s: kid stripped, iss before iat/exp, publicKey derived into the config', () => {
  const idProvider = { privateKey: pair.privateKey, issuer: 'https://idp.example' }
  const p = ts.generateIdProviderTokenPair({ ...user, kid: 'x', iat: 1, exp: 2 }, config({ idProvider }))
  const a = jwt.decode(p.accessToken)
  assert.deepEqual(Object.keys(a), ['sub', 'email', 'role', 'iss', 'token_use', 'iat', 'exp'])
  assert.equal(idProvider.publicKey, pair.publicKey)
  // A claim already in the payload keeps its place; an empty issuer adds nothing.
  const q = jwt.decode(ts.generateIdProviderTokenPair({ iss: 'old', sub: 's' }, config({ idProvider: { privateKey: pair.privateKey, issuer: '' } })).accessToken)
  assert.deepEqual(Object.keys(q), ['iss', 'sub', 'token_use', 'iat', 'exp'])
  assert.equal(q.iss, 'old')
})

test('IdP tokens are RS256 with kid provisioner-key-1 and iss; they verify in jsonwebtoken', () => {
  const cfg = config({ idProvider: { privateKey: pair.privateKey, issuer: 'https://idp.example' } })
  const p = ts.generateIdProviderTokenPair(user, cfg)
  const h = jwt.decode(p.accessToken, { complete: true })
  assert.equal(h.header.alg, 'RS256')
  assert.equal(h.header.kid, 'provisioner-key-1')
  assert.equal(h.payload.iss, 'https://idp.example')
  assert.equal(h.payload.exp - h.payload.iat, 30 * 86400)
  assert.equal(jwt.decode(p.refreshToken).exp - jwt.decode(p.refreshToken).iat, 90 * 86400)
  assert.equal(jwt.verify(p.accessToken, pair.publicKey, { algorithms: ['RS256'] }).sub, 'u1')
})

test('with only privateKey there is no iss; enabled without a key auto-generates, caches and warns once', () => {
  const p = ts.generateIdProviderTokenPair(user, config({ idProvider: { privateKey: pair.privateKey } }))
  assert.equal(jwt.decode(p.accessToken).iss, undefined)
  const warnings = []
  const orig = console.warn
  console.warn = (m) => warnings.push(String(m))
  try {
    const cfg = config({ idProvider: { enabled: true } })
    ts.generateIdProviderTokenPair(user, cfg)
    const key = cfg.idProvider.privateKey
    assert.match(key, /BEGIN PRIVATE KEY/)
    ts.generateIdProviderTokenPair(user, cfg)
    assert.equal(cfg.idProvider.privateKey, key)
    ts.generateIdProviderTokenPair(user, config({ idProvider: { enabled: true } }))
  } finally {
    console.warn = orig
  }
  assert.equal(warnings.length, 1)
  assert.match(warnings[0], /ephemeral RSA keypair/)
})

test('verifyWithJwks returns sub, email and iss from a mocked client', async () => {
  const cfg = config({ idProvider: { privateKey: pair.privateKey, issuer: 'https://idp.example' } })
  const { accessToken } = ts.generateIdProviderTokenPair(user, cfg)
  const client = mockClient(JwksService.buildJwksDocument(pair.publicKey))
  const c = await ts.verifyWithJwks(accessToken, client, 'https://idp.example')
  assert.equal(c.sub, 'u1')
  assert.equal(c.email, 'alice@example.com')
  assert.equal(c.iss, 'https://idp.example')
  // jsonwebtoken-issued RS256 tokens verify too.
  const theirs = jwt.sign({ sub: 'u9' }, pair.privateKey, { algorithm: 'RS256', keyid: 'provisioner-key-1', expiresIn: 60 })
  assert.equal((await ts.verifyWithJwks(theirs, client)).sub, 'u9')
})

test('verifyWithJwks ignores the JWK\'s alg/use (node-auth converts it to a PEM and verifies RS256); publicKeyToJwk keeps any kid', async () => {
  const jwk = { ...JwksService.publicKeyToJwk(pair.publicKey, 'provisioner-key-1'), alg: 'RS512', use: 'enc' }
  const token = jwt.sign({ sub: 'u7' }, pair.privateKey, { algorithm: 'RS256', keyid: 'provisioner-key-1', expiresIn: 60 })
  assert.equal((await ts.verifyWithJwks(token, mockClient({ keys: [jwk] }))).sub, 'u7')
  const j = JwksService.publicKeyToJwk(pair.publicKey)
  assert.deepEqual(Object.keys(j), ['kty', 'use', 'alg', 'kid', 'n', 'e'])
  assert.equal(j.kid, undefined)
})

test('verifyWithJwks rejects wrong issuer, expired, unknown kid, refresh tokens, audience (INVALID_TOKEN)', async () => {
  const client = mockClient(JwksService.buildJwksDocument(pair.publicKey))
  const sign = (claims, opts = {}) => jwt.sign(claims, pair.privateKey, { algorithm: 'RS256', keyid: 'provisioner-key-1', ...opts })
  const invalid = (code) => (e) => e instanceof AuthError && e.code === 'INVALID_TOKEN' && e.statusCode === 401 && (!code || e.cause?.code === code)
  const msg = (m, code) => (e) => invalid(code)(e) && e.message === m
  await assert.rejects(ts.verifyWithJwks(sign({ sub: 'u' }, { issuer: 'https://evil' }), client, 'https://idp'), msg('Token issuer mismatch'))
  // Issuer compared after the time checks, as in node-auth: expired + wrong issuer is 'Invalid or expired token'.
  await assert.rejects(ts.verifyWithJwks(sign({ sub: 'u', exp: nowS() - 10 }, { issuer: 'https://evil' }), client, 'https://idp'), msg('Invalid or expired token', 'JWT_EXPIRED'))
  await assert.rejects(ts.verifyWithJwks('not-a-token', client), msg('Invalid token format'))
  await assert.rejects(ts.verifyWithJwks(sign({ sub: 'u', exp: nowS() - 10 }), client), invalid('JWT_EXPIRED'))
  await assert.rejects(ts.verifyWithJwks(sign({ sub: 'u' }, { audience: 'other' }), client, undefined, 'api'), invalid('JWT_INVALID_AUDIENCE'))
  const { refreshToken } = ts.generateIdProviderTokenPair(user, config({ idProvider: { privateKey: pair.privateKey } }))
  await assert.rejects(ts.verifyWithJwks(refreshToken, client), invalid('JWT_WRONG_TOKEN_USE'))
  const noKid = jwt.sign({ sub: 'u' }, pair.privateKey, { algorithm: 'RS256' })
  await assert.rejects(ts.verifyWithJwks(noKid, client), msg('Token missing kid header'))
  // Unknown kid: one forced re-fetch, then rate-limited (no re-fetch per request).
  const other = JwksService.generateKeypair()
  const unknown = jwt.sign({ sub: 'u' }, other.privateKey, { algorithm: 'RS256', keyid: 'k-unknown' })
  await assert.rejects(ts.verifyWithJwks(unknown, client), msg('Unknown signing key'))
  await assert.rejects(ts.verifyWithJwks(unknown, client), msg('Unknown signing key'))
  assert.equal(client.calls.invalidate, 1)
  // A key from the JWKS whose signature does not match.
  const forged = jwt.sign({ sub: 'u' }, other.privateKey, { algorithm: 'RS256', keyid: 'provisioner-key-1' })
  await assert.rejects(ts.verifyWithJwks(forged, client), invalid('JWT_INVALID_SIGNATURE'))
})

test('JwksClient: a "null" document is node-auth\'s "failed to parse JSON", a document without keys "missing keys"', async () => {
  const http = await import('node:http')
  for (const [body, message] of [
    ['null', 'Invalid JWKS document: failed to parse JSON'],
    ['{}', 'Invalid JWKS document: missing "keys" array'],
    ['nope', 'Invalid JWKS document: failed to parse JSON'],
  ]) {
    const server = http.createServer((req, res) => res.end(body))
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    try {
      const client = new JwksClient(`http://127.0.0.1:${server.address().port}/`)
      await assert.rejects(client.getKey('k'), (e) => e.message === message, body)
    } finally {
      await new Promise((r) => server.close(r))
    }
  }
})
