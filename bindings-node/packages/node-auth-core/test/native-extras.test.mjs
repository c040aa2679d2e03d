// The Auth Server / authrs primitives exported as `native`: PKCE and authorization codes,
// policies, API tokens and session tokens; panics and bad input are typed errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { native } from '@authcore/node-auth-core'

const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'

test('PKCE S256 (RFC 7636 appendix B) and typed mismatches', () => {
  const challenge = native.pkceS256Challenge(verifier)
  assert.equal(challenge, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
  assert.equal(challenge, crypto.createHash('sha256').update(verifier).digest('base64url'))
  assert.equal(native.pkceVerify(verifier, challenge, 'S256'), true)
  assert.throws(() => native.pkceVerify(verifier.replace('d', 'e'), challenge, 'S256'), (e) => e.code === 'PKCE_VERIFICATION_FAILED' && e.status === 400)
  assert.throws(() => native.pkceVerify('short', challenge, 'S256'), (e) => e.code === 'PKCE_INVALID_VERIFIER')
  assert.throws(() => native.pkceVerify(verifier, challenge, 's256'), (e) => e.code === 'PKCE_UNSUPPORTED_METHOD')
})

test('authorization codes: bound to client, redirect URI and verifier; single use; expiry', () => {
  const as = new native.AuthorizationServer()
  const params = { clientId: 'c1', userId: 'u1', domainId: 'd1', redirectUri: 'https://app/cb', codeChallenge: native.pkceS256Challenge(verifier), scope: 'read' }
  const now = 1_700_000_000_000
  const code = as.createCode(params, now)
  const ex = { code, clientId: 'c1', redirectUri: 'https://app/cb', codeVerifier: verifier }
  assert.deepEqual({ ...as.exchangeCode(ex, now + 1000) }, { userId: 'u1', domainId: 'd1', scope: 'read', clientId: 'c1' })
  assert.throws(() => as.exchangeCode(ex, now + 1000), (e) => e.code === 'AUTH_CODE_REUSED')
  const mism = (over, code) => {
    const c = as.createCode(params, now)
    assert.throws(() => as.exchangeCode({ ...ex, code: c, ...over }, now + 1), (e) => e.code === code, code)
  }
  mism({ clientId: 'c2' }, 'AUTH_CODE_CLIENT_MISMATCH')
  mism({ redirectUri: 'https://evil/cb' }, 'AUTH_CODE_REDIRECT_URI_MISMATCH')
  mism({ codeVerifier: verifier.replace('d', 'x') }, 'PKCE_VERIFICATION_FAILED')
  const late = as.createCode(params, now)
  assert.throws(() => as.exchangeCode({ ...ex, code: late }, now + 60_001), (e) => e.code === 'AUTH_CODE_EXPIRED')
  const r = as.exchangeCodeResult({ ...ex, code: 'nope' }, now)
  assert.equal(r.success, false)
  assert.equal(r.error, 'invalid_grant')
  assert.throws(() => as.createCode({ ...params, codeChallengeMethod: 'plain', codeChallenge: verifier }, now), (e) => e.code === 'PKCE_PLAIN_NOT_ALLOWED')
  const meta = JSON.parse(native.oauthMetadata('https://auth.example', ['read'], false))
  assert.deepEqual(Object.keys(meta).slice(0, 3), ['issuer', 'authorization_endpoint', 'token_endpoint'])
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256'])
})

test('policies: deny overrides allow, role hierarchy, checkPermission', () => {
  const pe = new native.PolicyEngine()
  pe.addDocument(JSON.stringify({ version: '1.0', statements: [
    { sid: 'Read', effect: 'Allow', principals: ['role:viewer'], actions: ['get*'], resources: ['service:core/package:mfg/**'] },
    { sid: 'NoCost', effect: 'Deny', principals: ['role:viewer'], actions: ['getMaterials'], resources: ['service:core/package:mfg/table:materials'] },
  ] }))
  pe.setRoleParent('editor', 'viewer')
  const actions = pe.syncPackage(JSON.stringify({ packageId: 'mfg', tables: ['materials', 'bom_lines'] }))
  assert.equal(actions.length, 14)
  const editor = { userId: 'u1', roles: ['editor'] }
  assert.equal(pe.check(editor, 'service:core/package:mfg/table:bom_lines', 'getBomLines'), true)
  assert.equal(pe.check(editor, 'service:core/package:mfg/table:materials', 'getMaterials'), false)
  assert.equal(pe.check({ userId: 'u2' }, 'service:core/package:mfg/table:bom_lines', 'getBomLines'), false)
  const all = JSON.parse(pe.checkPermission(editor, 'service:core/package:mfg/table:bom_lines', null))
  assert.equal(all.decisions.getBomLines, true)
  assert.equal(all.decisions.postBomLines, false)
  assert.throws(() => pe.addDocument('{"version":"1.0","statements":[{"effect":"Maybe"}]}'), (e) => e.code.startsWith('POLICY_'))
  assert.throws(() => pe.setRoleParent('viewer', 'editor'), (e) => e.code.startsWith('POLICY_'))
  assert.deepEqual(native.policyCrudActions('bom_lines').slice(0, 2), ['getBomLines', 'postBomLines'])
})

test('API tokens, session tokens and bad input', async () => {
  const t = native.generateApiToken('epic_live_')
  assert.match(t.token, /^epic_live_[0-9A-Za-z]{32}$/)
  assert.equal(t.tokenHash, crypto.createHash('sha256').update(t.token).digest('hex'))
  assert.equal(native.apiTokenLookupPrefix(t.token, 'epic_live_'), t.prefix)
  assert.equal(await native.matchTokenHash(t.token, ['0'.repeat(64), t.tokenHash]), 1)
  assert.equal(native.matchTokenHashSync(t.token, []), null)
  const s = native.generateSessionToken()
  assert.equal(s.length, 43)
  assert.equal(native.verifySessionToken(s, native.hashSessionToken(s)), true)
  assert.equal(native.hashBlake3('abc'), '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85')
  assert.throws(() => native.generateApiToken('bad prefix!'), (e) => e.code === 'API_TOKEN_INVALID_PREFIX')
  // Wrong JS types are napi argument errors, not crashes.
  assert.throws(() => native.bcryptHashSync(42, 4))
  assert.throws(() => new native.KeySet().sign('{"a":1}'), (e) => e.code === 'JWT_KEY_CONFIG' && e.status === 500)
  assert.throws(() => new native.KeySet().addPem('not a pem'), (e) => e.code === 'JWT_INVALID_KEY')
})

test('native: the deprecated JwtKeySet and argon2Hash are the core-named KeySet and passwordHashArgon2id', () => {
  assert.equal(native.JwtKeySet, native.KeySet)
  assert.equal(native.argon2Hash, native.passwordHashArgon2id)
  assert.equal(native.argon2HashSync, native.passwordHashArgon2idSync)
  assert.equal(native.argon2Verify, native.passwordVerifyArgon2)
  assert.equal(native.setMetricsEnabled, native.metricsSetEnabled)
  assert.ok(new native.JwtKeySet() instanceof native.KeySet)
})
