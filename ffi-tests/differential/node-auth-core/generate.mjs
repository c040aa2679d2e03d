// Randomised cases for the node-auth-core differential suite. Everything random comes from
// the seeded PRNG (salts, secrets, payloads, keys' choice); tokens are signed here with npm
// jsonwebtoken/jws and fixed absolute times (exp 2096 or 2001), so a recorded case verifies
// the same way on any later day. Only the RSA key pair is drawn from the OS (one per run,
// stored in the case inputs).
import crypto from 'node:crypto'
import { createRequire } from 'node:module'
import { enc, rng } from './codec.mjs'

const require = createRequire(import.meta.url)
const jwt = require('jsonwebtoken')
const jws = require('jws')
const bcryptjs = require('bcryptjs')

const FUTURE = 4_000_000_000 // 2096
const PAST = 1_000_000_000 // 2001
const B64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

function passwords(r) {
  return [
    r.str('abcdefghijklmnopqrstuvwxyz0123456789', 0, 20),
    r.str('abcXYZ !@#$%^&*()_+-=', 1, 30),
    'pässwörd-' + r.str('äöüßéèñ密码', 1, 10),
    '🔑' + r.str('ab', 1, 5) + '👍🏽',
    'a\uD800' + r.str('xyz', 0, 3), // lone high surrogate
    '\uDC00' + r.str('xyz', 0, 3), // lone low surrogate
    'x'.repeat(r.int(70, 74)) + r.str('abc', 1, 3), // around the 72-byte limit
    'é'.repeat(r.int(35, 37)) + 'tail',
    '',
    'nul\u0000inside',
  ]
}

function salt(r, version = '2b', cost = 4) {
  return `$${version}$${String(cost).padStart(2, '0')}$${r.str(B64, 22, 22)}`
}

function passwordCases(r, push) {
  const pws = passwords(r)
  // hash(pw, rounds): falsy, negative, fractional, in range.
  for (const rounds of [0, NaN, -1, -Infinity, 3.5, 4, 5, 4.5, 30.5 - 26.5, null, '4', undefined]) {
    if (rounds === undefined && !r.bool(0.3)) continue // the default cost 12 is slow in bcryptjs
    push('password', 'password.hash_rounds', { password: r.pick(pws), rounds })
  }
  for (const password of [undefined, 42, null]) push('password', 'password.hash_rounds', { password, rounds: 4 })
  // hash(pw, salt string): every version, whole hashes, malformed salts.
  for (let i = 0; i < 8; i++) {
    const v = r.pick(['2a', '2b', '2y', '2b'])
    push('password', 'password.hash_salt', { password: r.pick(pws), salt: salt(r, v, r.int(4, 5)) })
  }
  push('password', 'password.hash_salt', { password: r.pick(pws), salt: `$2$04$${r.str(B64, 22, 22)}` })
  push('password', 'password.hash_salt', { password: '', salt: `$2$04$${r.str(B64, 22, 22)}` })
  const whole = bcryptjs.hashSync(r.pick(pws), salt(r))
  push('password', 'password.hash_salt', { password: r.pick(pws), salt: whole })
  for (const bad of [
    'not-a-salt',
    `$2x$04$${r.str(B64, 22, 22)}`,
    `$2c$04$${r.str(B64, 22, 22)}`,
    `$3b$04$${r.str(B64, 22, 22)}`,
    `$2b$03$${r.str(B64, 22, 22)}`,
    `$2b$32$${r.str(B64, 22, 22)}`,
    `$2b$4.$${r.str(B64, 22, 22)}`,
    `$2b$04.5$${r.str(B64, 22, 22)}`,
    `$2b$1x$${r.str(B64, 22, 22)}`,
    `$2b$04$${r.str(B64, 5, 20)}`,
    `$2b$04$${r.str(B64, 10, 10)}!${r.str(B64, 11, 11)}`,
    `$2b$04$${r.str(B64, 21, 21)}${r.pick(['.', 'O', 'e', 'u'])}`, // non-canonical last character
    '$2b$04',
    '',
  ]) {
    push('password', 'password.hash_salt', { password: r.pick(pws), salt: bad })
  }
  // compare(pw, hash): real bcryptjs hashes of every version, wrong passwords, malformed.
  for (let i = 0; i < 8; i++) {
    const pw = r.pick(pws)
    let h = bcryptjs.hashSync(pw, salt(r, '2b', 4))
    const v = r.pick(['2a', '2b', '2y'])
    h = h.replace('$2b$', `$${v}$`)
    push('password', 'password.compare', { password: r.bool(0.6) ? pw : pw + 'x', hash: h })
  }
  const h = bcryptjs.hashSync('pw', salt(r))
  for (const bad of [
    h.slice(0, 59),
    h + 'x',
    h.replace('$2b$', '$2x$'),
    h.replace('$04$', '$03$'),
    h.replace('$04$', '$1x$'),
    'x' + h.slice(1),
    h.slice(0, 40) + '!'.repeat(20),
    'plaintext-password-stored-by-mistake-padded-to-sixty-chars!!',
    '',
    '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$' + r.str(B64.slice(2), 43, 43),
  ]) {
    push('password', 'password.compare', { password: 'pw', hash: bad })
  }
  push('password', 'password.compare', { password: undefined, hash: h })
  push('password', 'password.compare', { password: 'pw', hash: null })
}

function hsToken(r, payload, secret, extra = {}) {
  const alg = extra.alg ?? r.pick(['HS256', 'HS384', 'HS512'])
  const header = { alg, typ: 'JWT', ...(extra.header ?? {}) }
  return jws.sign({ header, payload, secret })
}

function jwtCases(r, push) {
  const secrets = { access: 'acc-' + r.str(BASE32, 8, 24), refresh: 'ref-' + r.str(BASE32, 8, 24) }
  const cfg = { accessTokenSecret: secrets.access, refreshTokenSecret: secrets.refresh }
  const base = () => ({ sub: 'u' + r.int(1, 999), email: `${r.str('abc', 3, 6)}@example.com`, role: r.pick(['user', 'admin']) })
  // generateTokenPair at a frozen clock.
  const lifetimes = ['15m', '1h', '2 days', '1.5h', '7d', '10', '-1h', ' 1h', '1 hr', 90, 1.5, NaN, -5, 0, 'soon', '', '1y', '1e3']
  for (let i = 0; i < 14; i++) {
    const payload = base()
    if (r.bool(0.3)) Object.assign(payload, { iat: 5, exp: 6 })
    if (r.bool(0.2)) payload.nbf = r.pick([PAST, 'tomorrow', null])
    if (r.bool(0.2)) payload.tenant = { id: r.int(1, 9), tags: ['a', 'b'] }
    if (r.bool(0.15)) payload.kid = 'k1'
    const config = { ...cfg }
    if (r.bool(0.6)) config.accessTokenExpiresIn = r.pick(lifetimes)
    if (r.bool(0.4)) config.refreshTokenExpiresIn = r.pick(lifetimes)
    push('jwt', 'token.generateTokenPair', { payload, config })
  }
  for (const secret of ['', undefined, 42, {}, Buffer.from('buffer-secret')]) {
    push('jwt', 'token.generateTokenPair', { payload: base(), config: { ...cfg, accessTokenSecret: secret } })
  }
  for (const payload of [null, undefined, [1, 2], 'text']) {
    push('jwt', 'token.generateTokenPair', { payload, config: cfg })
  }
  // verifyAccessToken / verifyRefreshToken against jsonwebtoken-made tokens.
  const claimsVariants = [
    () => ({ ...base(), exp: FUTURE }),
    () => ({ ...base() }),
    () => ({ ...base(), exp: PAST }),
    () => ({ ...base(), exp: FUTURE, nbf: FUTURE }),
    () => ({ ...base(), exp: FUTURE, nbf: 'abc' }),
    () => ({ ...base(), exp: 'never' }),
    () => ({ ...base(), exp: FUTURE, token_use: r.pick(['access', 'refresh', 'mfa_pending', 'id', 7]) }),
    () => ({ ...base(), iat: 'x', exp: FUTURE }),
  ]
  for (let i = 0; i < 18; i++) {
    const which = r.pick(['access', 'refresh'])
    const secret = r.bool(0.85) ? secrets[which] : 'wrong-' + r.str(BASE32, 4, 8)
    const token = hsToken(r, JSON.stringify(r.pick(claimsVariants)()), secret)
    push('jwt', which === 'access' ? 'token.verifyAccessToken' : 'token.verifyRefreshToken', { token, config: cfg })
  }
  for (const [payload, extra] of [
    [JSON.stringify([1, 2, 3]), {}],
    [JSON.stringify('a string'), {}],
    ['not json at all', {}],
    [JSON.stringify({ sub: 'u', exp: FUTURE }), { header: { crit: ['exp'] } }],
    [JSON.stringify({ sub: 'u', exp: FUTURE }), { header: { typ: undefined } }],
    [JSON.stringify({ sub: 'u', exp: FUTURE, pad: 'p'.repeat(17000) }), {}],
  ]) {
    push('jwt', 'token.verifyAccessToken', { token: hsToken(r, payload, secrets.access, extra), config: cfg })
  }
  for (const token of ['invalid.token.here', '', 'a.b', jws.sign({ header: { alg: 'none' }, payload: '{"sub":"u"}', secret: '' }), undefined, 42]) {
    push('jwt', 'token.verifyAccessToken', { token, config: cfg })
  }
}

function idpCases(r, push, rsa) {
  const base = () => ({ sub: 'u' + r.int(1, 99), email: 'a@example.com' })
  for (let i = 0; i < 6; i++) {
    const payload = base()
    if (r.bool(0.4)) payload.kid = 'caller-kid'
    if (r.bool(0.3)) Object.assign(payload, { iat: 1, exp: 2 })
    if (r.bool(0.3)) payload.iss = 'from-payload'
    const idProvider = { privateKey: rsa.privateKey }
    if (r.bool(0.5)) idProvider.issuer = r.pick(['https://idp.example', ''])
    if (r.bool(0.3)) idProvider.publicKey = rsa.publicKey
    if (r.bool(0.3)) idProvider.tokenExpiry = r.pick(['1h', 60, 1.5])
    if (r.bool(0.3)) idProvider.refreshTokenExpiry = r.pick(['30d', 'later'])
    push('jwks', 'token.generateIdProviderTokenPair', { payload, config: { accessTokenSecret: 'a', refreshTokenSecret: 'b', idProvider } })
  }
  push('jwks', 'token.generateIdProviderTokenPair', { payload: base(), config: { accessTokenSecret: 'a', refreshTokenSecret: 'b' } })
  push('jwks', 'token.generateIdProviderTokenPair', { payload: base(), config: { accessTokenSecret: 'a', refreshTokenSecret: 'b', idProvider: { enabled: false } } })
  // verifyWithJwks against a client serving one key.
  const kid = 'provisioner-key-1'
  const sign = (claims, opts) => jwt.sign(claims, rsa.privateKey, { algorithm: 'RS256', ...opts })
  const variants = [
    () => sign({ sub: 'u', exp: FUTURE }, { keyid: kid }),
    () => sign({ sub: 'u', exp: FUTURE, iss: 'https://idp.example' }, { keyid: kid }),
    () => sign({ sub: 'u', exp: FUTURE, iss: 'https://evil' }, { keyid: kid }),
    () => sign({ sub: 'u', exp: PAST, iss: 'https://evil' }, { keyid: kid }),
    () => sign({ sub: 'u', exp: PAST }, { keyid: kid }),
    () => sign({ sub: 'u', exp: FUTURE }),
    () => sign({ sub: 'u', exp: FUTURE }, { keyid: 'other-kid' }),
    () => sign({ sub: 'u', exp: FUTURE, token_use: 'refresh' }, { keyid: kid }),
    () => jwt.sign({ sub: 'u', exp: FUTURE }, 'hs-secret', { keyid: kid }),
    () => jws.sign({ header: { alg: 'RS256', kid: 7 }, payload: '{"sub":"u"}', privateKey: rsa.privateKey }),
    () => 'garbage',
    () => 'a.b.c',
  ]
  const jwks = { keys: [{ ...crypto.createPublicKey(rsa.publicKey).export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }] }
  for (const op of ['jwks.derivePublicKey', 'jwks.publicKeyToJwk', 'jwks.buildJwksDocument', 'jwks.jwkToPublicKey']) {
    push('jwks', op, { privateKey: rsa.privateKey, publicKey: rsa.publicKey, kid: r.pick([undefined, 'k-' + r.int(1, 9)]), jwk: jwks.keys[0] })
  }
  for (const [status, body] of [
    [200, JSON.stringify(jwks)],
    [200, JSON.stringify({ keys: [] })],
    [500, 'oops'],
    [404, JSON.stringify(jwks)],
    [200, 'not json'],
    [200, 'null'],
    [200, '[]'],
    [200, JSON.stringify({ keys: 'x' })],
    [200, JSON.stringify({})],
  ]) {
    push('jwks', 'jwks.client', { status, body, kid: r.pick([kid, 'other']), options: r.pick([undefined, { cacheTtl: 60_000 }]) })
  }
  const odd = { keys: [{ ...jwks.keys[0], alg: r.pick(['RS512', 'PS256']), use: r.pick(['sig', 'enc']) }] }
  push('jwks', 'token.verifyWithJwks', { token: sign({ sub: 'u', exp: FUTURE }, { keyid: kid }), jwks: odd, expectedIssuer: undefined })
  for (let i = 0; i < 14; i++) {
    const expectedIssuer = r.pick([undefined, 'https://idp.example'])
    push('jwks', 'token.verifyWithJwks', { token: r.pick(variants)(), jwks, expectedIssuer })
  }
}

function cookieConfigs(r) {
  const co = {}
  if (r.bool(0.6)) co.secure = r.pick([true, false, 1, 'yes'])
  if (r.bool(0.4)) co.path = r.pick(['/', '/api', ''])
  if (r.bool(0.3)) co.domain = 'example.com'
  if (r.bool(0.3)) co.sameSite = r.pick(['strict', 'none'])
  if (r.bool(0.3)) co.refreshTokenPath = r.pick(['/x/refresh', '/'])
  const config = { accessTokenSecret: 'a', refreshTokenSecret: 'b' }
  if (r.bool(0.8)) config.cookieOptions = co
  if (r.bool(0.3)) config.apiPrefix = r.pick(['/api/v1', ''])
  if (r.bool(0.4)) config.csrf = { enabled: r.bool(0.7) }
  return config
}

function cookieCases(r, push) {
  for (let i = 0; i < 14; i++) {
    push('cookies', 'cookies.set', { tokens: { accessToken: 'at.' + r.str(B64, 4, 8), refreshToken: 'rt.' + r.str(B64, 4, 8) }, config: cookieConfigs(r) })
  }
  for (let i = 0; i < 8; i++) push('cookies', 'cookies.clear', { config: r.bool(0.9) ? cookieConfigs(r) : undefined })
  for (let i = 0; i < 5; i++) push('cookies', 'cookies.initCsrf', { config: cookieConfigs(r) })
  const values = ['plain', 'tok%20x', 'a=b=c', '%E0%A4%A', '%zz', '']
  for (let i = 0; i < 12; i++) {
    const parts = []
    for (const n of ['accessToken', '__Secure-accessToken', '__Host-accessToken', 'other', ' spaced ']) {
      if (r.bool(0.4)) parts.push(`${n}=${r.pick(values)}`)
    }
    const req = { headers: {} }
    if (parts.length || r.bool(0.5)) req.headers.cookie = parts.join(r.pick(['; ', ';']))
    if (r.bool(0.2)) req.cookies = { accessToken: r.pick(['parsed', '']) }
    push('cookies', 'cookies.extract', { req, name: 'accessToken' })
  }
}

function totpCases(r, push) {
  const secret = r.str(BASE32, 32, 32)
  for (const token of [{ $totpNow: 0 }, { $totpNow: 0 }, { $totpNow: -1 }, { $totpNow: 1 }, { $totpNow: -3 }, '12345', '1234567', 'abcdef', '12 456', '']) {
    push('totp', 'totp.verify', { token, secret })
  }
  for (const s of [secret.toLowerCase(), r.str(BASE32, 8, 8), r.str(BASE32, 120, 120), secret + '====', secret.slice(0, 16) + ' ' + secret.slice(16), secret.slice(0, 31) + '1', '']) {
    push('totp', 'totp.verify', { token: r.bool(0.5) ? '123456' : { $totpNow: 0 }, secret: s })
  }
  push('totp', 'totp.enableDisable', { userId: 'u' + r.int(1, 9), secret })
  push('totp', 'totp.generateSecret', { email: `${r.str('abc', 3, 6)}+x@example.com`, appName: r.pick([undefined, 'My App', 'a:b']) })
}

function apiKeyCases(r, push) {
  const hex = '0123456789abcdef'
  for (let i = 0; i < 16; i++) {
    const rawKey = 'ak_' + r.str(hex, 48, 48)
    const record = {
      id: 'id-' + r.int(1, 999),
      name: 'k',
      keyHash: bcryptjs.hashSync(r.bool(0.8) ? rawKey : rawKey + 'x', salt(r, r.pick(['2a', '2b']), 4)),
      keyPrefix: rawKey.slice(0, 11),
      serviceId: r.pick([null, 'svc']),
      scopes: r.pick([[], ['tools:read'], ['tools:read', 'tools:write']]),
      allowedIps: r.pick([null, [], ['10.0.0.1'], ['10.0.0.0/8'], ['::1'], ['2001:db8::/32'], ['10.0.0.0/33']]),
      isActive: r.bool(0.85),
      expiresAt: r.pick([null, null, new Date(PAST * 1000), new Date(FUTURE * 1000), '2001-01-01T00:00:00Z']),
      createdAt: new Date(PAST * 1000),
      lastUsedAt: null,
    }
    const headers = {}
    const presented = r.bool(0.9) ? rawKey : 'ak_' + r.str(hex, 48, 48)
    const how = r.pick(['auth', 'x', 'both', 'bad-scheme', 'none'])
    if (how === 'auth' || how === 'both') headers.authorization = `ApiKey ${presented}`
    if (how === 'x' || how === 'both') headers['x-api-key'] = ` ${presented} `
    if (how === 'bad-scheme') headers.authorization = `Bearer ${presented}`
    if (r.bool(0.3)) headers['user-agent'] = 'ua/1'
    const options = {}
    if (r.bool(0.4)) options.requiredScopes = r.pick([['tools:read'], ['tools:write', 'x']])
    if (r.bool(0.4)) options.auditLog = true
    if (r.bool(0.2)) options.enforceIpAllowlist = false
    const remoteIp = r.pick([undefined, '10.0.0.1', '::ffff:10.0.0.1', '192.168.1.1', '::1', '2001:db8::5'])
    const store = { records: r.bool(0.9) ? [record] : [], throwOn: r.pick([null, null, null, null, 'findByPrefix', 'logUsage', 'updateLastUsed']) }
    push('apikey', r.bool(0.5) ? 'apikey.authenticate' : 'apikey.middleware', { headers, remoteIp, options, store })
  }
  for (const keyHash of ['not-a-hash', '$2x$04$' + r.str(B64, 53, 53), '$2b$04$' + r.str(B64, 10, 10), '']) {
    const rawKey = 'ak_' + r.str(hex, 48, 48)
    const record = { id: 'id-bad', name: 'k', keyHash, keyPrefix: rawKey.slice(0, 11), serviceId: null, scopes: [], allowedIps: null, isActive: true, expiresAt: null, createdAt: new Date(PAST * 1000), lastUsedAt: null }
    push('apikey', r.bool(0.5) ? 'apikey.authenticate' : 'apikey.middleware', { headers: { 'x-api-key': rawKey }, remoteIp: '10.0.0.1', options: {}, store: { records: [record], throwOn: null } })
  }
  for (const options of [{ name: 'svc' }, { name: 'svc', serviceId: 's1', scopes: ['a'], allowedIps: ['10.0.0.1'], expiresAt: new Date(FUTURE * 1000), saltRounds: 4 }]) {
    push('apikey', 'apikey.createKey', { saltRounds: r.pick([4, 5]), options })
  }
  const k = 'ak_' + r.str(hex, 48, 48)
  for (const hash of [bcryptjs.hashSync(k, salt(r)), 'not-a-hash', bcryptjs.hashSync(k, salt(r)).replace('$2b$', '$2x$')]) {
    push('apikey', 'apikey.verifyKey', { rawKey: k, hash })
  }
}

/** The cases of one seed, JSON-encoded (`codec.enc`), each with a stable id. */
export function generate(seed, { only } = {}) {
  const r = rng(seed)
  const cases = []
  const counts = {}
  const push = (capability, op, input) => {
    if (only && !only.includes(capability)) return
    counts[op] = (counts[op] ?? 0) + 1
    cases.push({ id: `s${seed}-${op}-${counts[op]}`, capability, op, input: enc(input) })
  }
  const rsa = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  passwordCases(r, push)
  jwtCases(r, push)
  idpCases(r, push, rsa)
  cookieCases(r, push)
  totpCases(r, push)
  apiKeyCases(r, push)
  return cases
}
