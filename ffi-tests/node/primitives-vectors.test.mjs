// Node runner of the auth-primitive vector files (ffi-tests/vectors, common schema). Each op is
// a call of @authcore/node-auth-core's public API (its drop-in classes where they expose
// the operation, else the `native` primitives it re-exports). An unknown op fails.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PasswordService, TotpStrategy, JwksService, native } from '@authcore/node-auth-core'

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'vectors')
const FILES = [
  'password-bcrypt.json',
  'password-argon2.json',
  'jwt-hs256.json',
  'jwt-asymmetric.json',
  'totp-rfc6238.json',
  'pkce-rfc7636.json',
  'policy.json',
]

const passwords = new PasswordService()
const list = (v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v])

function verifyOpts(i) {
  return {
    now: i.now,
    leeway: i.leeway,
    issuer: list(i.issuer),
    audience: list(i.audience),
    tokenUse: i.tokenUse,
  }
}

const OPS = {
  async bcrypt_verify(i) {
    const ok = await native.bcryptVerify(i.password, i.hash)
    // The drop-in PasswordService.compare agrees on every well-formed hash.
    assert.equal(await passwords.compare(i.password, i.hash), ok)
    assert.equal(native.bcryptVerifySync(i.password, i.hash), ok)
    return ok
  },
  async bcrypt_hash_with_salt(i) {
    const h = await native.bcryptHashWithSalt(i.password, i.salt)
    assert.equal(await passwords.hash(i.password, i.salt), h)
    return h
  },
  async bcrypt_hash_prefix(i) {
    const h = await passwords.hash(i.password, i.cost)
    assert.equal(await passwords.compare(i.password, h), true)
    return h.slice(0, 7)
  },
  async argon2_verify(i) {
    const ok = await native.argon2Verify(i.password, i.hash)
    assert.equal(native.argon2VerifySync(i.password, i.hash), ok)
    return ok
  },
  argon2_needs_rehash(i) {
    return native.passwordNeedsRehash(i.hash, { memoryCost: i.m, timeCost: i.t, parallelism: i.p })
  },
  jwt_sign(i) {
    const ks = new native.JwtKeySet()
    ks.addHmac(i.secret, { alg: i.alg, kid: i.kid })
    return ks.sign(i.payloadJson)
  },
  jwt_verify(i) {
    const ks = new native.JwtKeySet()
    ks.addHmac(i.secret, { algorithms: i.algorithms })
    return JSON.parse(ks.verify(i.token, verifyOpts(i)))
  },
  jwt_verify_pem(i) {
    const ks = new native.JwtKeySet()
    ks.addPem(i.publicKeyPem, { alg: i.alg })
    return JSON.parse(ks.verify(i.token, verifyOpts(i)))
  },
  jwt_sign_pem(i) {
    const ks = new native.JwtKeySet()
    ks.addPem(i.privateKeyPem, { alg: i.alg, kid: i.kid })
    return ks.sign(i.payloadJson)
  },
  jwks_from_pem(i) {
    const ks = new native.JwtKeySet()
    ks.addPem(i.publicKeyPem, { alg: i.alg, kid: i.kid })
    const doc = JSON.parse(ks.jwks())
    if (i.alg === 'RS256') assert.deepEqual(JwksService.buildJwksDocument(i.publicKeyPem, i.kid), doc)
    return doc
  },
  totp_generate_raw(i) {
    const opts = { now: i.time, algorithm: i.algorithm, digits: i.digits, period: i.period }
    return native.totpGenerateRaw(Buffer.from(i.secretHex, 'hex'), opts)
  },
  totp_generate(i) {
    return native.totpGenerate(i.secret, { now: i.time })
  },
  totp_verify(i) {
    const opts = { now: i.now, window: i.window, lastUsedStep: i.lastUsedStep }
    let step
    try {
      step = native.totpVerify(i.code, i.secret, opts)
    } catch (e) {
      // The drop-in never throws: it reports the same code as a failed verification.
      const d = new TotpStrategy({ replayProtection: false }).verifyDetailed(i.code, i.secret, opts)
      assert.deepEqual(d, { valid: false, code: e.code })
      throw e
    }
    const d = new TotpStrategy({ replayProtection: false }).verifyDetailed(i.code, i.secret, opts)
    assert.deepEqual(d, { valid: true, step })
    return step
  },
  totp_otpauth_url(i) {
    return native.totpOtpauthUrl(i.issuer, i.account, i.secret)
  },
  pkce_s256_challenge(i) {
    return native.pkceS256Challenge(i.verifier)
  },
  pkce_verify(i) {
    return native.pkceVerify(i.verifier, i.challenge, i.method)
  },
  policy_check(i) {
    return native.policyEvaluateRequest(JSON.stringify(i.request))
  },
  policy_crud_actions(i) {
    return native.policyCrudActions(i.table, i.extensible)
  },
  policy_sync_package_actions(i) {
    return native.policySyncPackageActions(JSON.stringify(i))
  },
  policy_derive_action_name(i) {
    return native.policyDeriveActionName(i.method, i.path) ?? null
  },
  policy_slugify_uid(i) {
    return native.policySlugifyUid(i.name)
  },
  policy_validate_document(i) {
    return native.policyValidateDocument(JSON.stringify(i.document))
  },
  policy_check_permission(i) {
    const pe = new native.PolicyEngine()
    for (const d of i.documents) pe.addDocument(JSON.stringify(d))
    for (const p of i.packages) pe.syncPackage(JSON.stringify(p))
    const subject = { userId: i.userId, roles: i.roles, groups: i.groups }
    return JSON.parse(pe.checkPermission(subject, i.resource, i.action ?? null))
  },
}

for (const file of FILES) {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'))
  test(`${file}: ${doc.cases.length} cases`, async (t) => {
    assert.ok(doc.cases.length > 0)
    for (const c of doc.cases) {
      await t.test(c.id, async () => {
        const op = OPS[c.op]
        assert.ok(op, `unknown op ${c.op} in ${file}`)
        if ('ok' in c.expect) {
          assert.deepEqual(await op(c.input), c.expect.ok)
        } else {
          await assert.rejects(
            async () => op(c.input),
            (e) => {
              assert.equal(e.code, c.expect.error, `${c.id}: ${e.message}`)
              if (c.expect.status !== undefined) assert.equal(e.status, c.expect.status)
              return true
            },
          )
        }
      })
    }
  })
}
