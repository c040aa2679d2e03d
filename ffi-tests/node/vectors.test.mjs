// The Node runner of the shared vectors (ffi-tests/README.md): every vector file of
// ffi-tests/vectors/ is claimed here by a family (its ops, through the public API of the
// package that owns the capability) or listed in NOT_FOR_NODE with the reason; a file
// that is neither, or an unknown op, fails.
//   hmac-*.json, naskot/*.json   @authcore/node-hmac-auth-core (the addon `@authcore/native`
//                                for ops the original does not export)
//   password-*, jwt-*, totp-*, pkce-*, policy   @authcore/node-auth-core (its drop-in classes
//                                where they expose the operation, else its `native` primitives)
//   realtime.json                @authcore/fuz-app-realtime
//   canonical-json-oracle.json   the message track's canonical JSON (the addon's `toMessageString`)
//   differential/*.json          each replayed by the test file of this folder named in
//                                REPLAYED_BY, through the one replay loop (../differential/replay.mjs)
// A vector folder other than naskot/ and differential/ fails until it is claimed here.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import * as core from '@authcore/node-hmac-auth-core'
import { PasswordService, TotpStrategy, JwksService } from '@authcore/node-auth-core'
import {
  SSE_CONNECTED_COMMENT,
  SubscriberRegistry,
  create_sse_auth_guard,
  create_sse_response,
  guard_decision,
  hash_session_token,
} from '@authcore/fuz-app-realtime'

const require = createRequire(import.meta.url)
const native = require('@authcore/native')

const VECTORS = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors')
const load = (file) => JSON.parse(readFileSync(join(VECTORS, file), 'utf8'))

// ------------------------------------------------------------------ HMAC (hmac-*.json)

/** A minimal node-redis-v4-shaped in-memory client (what the original's tests use). */
class FakeRedis {
  constructor() {
    this.hashes = new Map()
    this.strings = new Map()
  }
  async hGet(k, f) {
    return this.hashes.get(k)?.get(f) ?? null
  }
  async hSet(k, f, v) {
    if (!this.hashes.has(k)) this.hashes.set(k, new Map())
    this.hashes.get(k).set(f, String(v))
    return 1
  }
  async hDel(k, f) {
    return this.hashes.get(k)?.delete(f) ? 1 : 0
  }
  async hKeys(k) {
    return [...(this.hashes.get(k)?.keys() ?? [])]
  }
  async get(k) {
    return this.strings.get(k) ?? null
  }
  async set(k, v, opts) {
    if (opts?.NX && this.strings.has(k)) return null
    this.strings.set(k, String(v))
    return 'OK'
  }
  async del(k) {
    return this.strings.delete(k) ? 1 : 0
  }
}

function bodyOf(input) {
  if (input.bodyHex !== undefined) return Buffer.from(input.bodyHex, 'hex')
  return input.body ?? ''
}

/** The vector error code of a thrown error. */
function codeOf(e) {
  if (e instanceof core.HmacAuthError) return e.code
  if (typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code) && !e.code.startsWith('ERR_')) return e.code
  if (e instanceof TypeError) return 'INVALID_INPUT'
  if (e instanceof Error) return 'INVALID_ARGUMENT'
  return `NOT_AN_ERROR(${String(e)})`
}

/** The HTTP status the middleware answers for a thrown error (non-auth errors: 500). */
function statusOf(e) {
  return e instanceof core.HmacAuthError ? e.status : 500
}

/** Where a case's stored record goes: the clientId the core's getHeader rule reads, trimmed. */
function recordKey(headers) {
  let id
  try {
    id = native.requestHeaders(headers)[0]
  } catch {
    id = undefined // a non-string x-client-id: the verifier refuses it before any lookup
  }
  return String(id ?? '').trim()
}

let nsCounter = 0
function uniqueNamespace() {
  nsCounter += 1
  return `vectors_${process.pid}_${Date.now()}_${nsCounter}`
}

async function verifyViaClient(input) {
  const redis = new FakeRedis()
  const namespace = uniqueNamespace()
  const clientId = recordKey(input.headers)
  if (input.record !== null && input.record !== undefined) await redis.hSet(`${namespace}:clients`, clientId, input.record)
  return core.verifyHttpSignature({
    method: input.method,
    path: input.path,
    headers: input.headers,
    rawBody: bodyOf(input),
    redis,
    namespace,
    now: input.now,
    maxSkewMs: input.maxSkewMs,
    metadata: input.ipCandidates ? { ips: input.ipCandidates } : undefined,
  })
}

async function verifyViaMemoryUrl(input) {
  const namespace = uniqueNamespace()
  const store = new native.HmacAuth('memory://ffi-vectors', { namespace })
  const clientId = recordKey(input.headers)
  if (input.record !== null && input.record !== undefined) await store.rawHset(`${namespace}:clients`, clientId, input.record)
  return core.verifyHttpSignature({
    method: input.method,
    path: input.path,
    headers: input.headers,
    rawBody: bodyOf(input),
    redis: 'memory://ffi-vectors',
    namespace,
    now: input.now,
    maxSkewMs: input.maxSkewMs,
    metadata: input.ipCandidates ? { ips: input.ipCandidates } : undefined,
  })
}

function verifySansIo(input) {
  const [clientId, signature, timestamp, nonce] = native.requestHeaders(input.headers)
  const o = native.verifyWithRecord({
    method: input.method,
    path: input.path,
    clientId: clientId ?? undefined,
    signature: signature ?? undefined,
    timestamp: timestamp ?? undefined,
    nonce: nonce ?? undefined,
    body: bodyOf(input),
    now: input.now,
    maxSkewMs: input.maxSkewMs,
    record: input.record ?? undefined,
    ipCandidates: input.ipCandidates,
  })
  if (!o.ok) {
    if (o.isAuthError) throw new core.HmacAuthError(o.code, o.message, o.status)
    throw o.code === 'INVALID_INPUT' ? new TypeError(o.message) : new Error(o.message)
  }
  return { clientId: o.clientId, timestamp: o.timestamp, nonce: o.nonce, signature: o.signature }
}

/** op → call; returns the value to compare with `expect.ok`. */
const HMAC_OPS = {
  hash_client_secret: (i) => core.hashClientSecret(i.secret, i.secretToken),
  hash_body: (i) => core.hashBody(bodyOf(i)),
  build_signing_payload: (i) =>
    core.buildSigningPayload({ method: i.method, path: i.path, timestamp: i.timestamp, nonce: i.nonce, body: bodyOf(i) }),
  sign_request: (i) =>
    core.signRequest({ method: i.method, path: i.path, timestamp: i.timestamp, nonce: i.nonce, body: bodyOf(i), secret: i.secret }),
  normalize_path: (i) => native.normalizePath(i.path),
  safe_equal_hex: (i) => core.safeEqualHex(i.a, i.b),
  message_canonical: (i) => native.toMessageString(i.message),
  sign_message: (i) =>
    core.signMessage({ clientId: i.clientId, message: i.message, secret: i.secret, secretIsHashed: i.secretIsHashed, hashToken: i.hashToken }),
  verify_message: (i) =>
    core.verifyMessage({
      clientId: i.clientId,
      message: i.message,
      secret: i.secret,
      secretIsHashed: i.secretIsHashed,
      hashToken: i.hashToken,
      signature: i.signature,
    }),
  ip_allowed: (i) => native.isClientIpAllowed(i.ip, i.rules),
  normalize_allowed_ips: (i) => native.normalizeAllowedIpRules(i.rules.map((r) => (typeof r === 'string' ? r : null))),
  parse_record: (i) => {
    const r = native.parseStoredClientRecord(i.raw)
    return { secretHash: r.secretHash, createdAt: r.createdAt, updatedAt: r.updatedAt, expiresAt: r.expiresAt ?? null, allowedIps: r.allowedIps }
  },
  // Three paths must agree: the drop-in over a RedisLikeClient, the drop-in over the
  // native memory store, and the sans-IO native call.
  verify_with_record: async (i) => {
    const results = []
    for (const run of [verifyViaClient, verifyViaMemoryUrl, async (x) => verifySansIo(x)]) {
      try {
        results.push({ ok: await run(i) })
      } catch (e) {
        results.push({ error: codeOf(e), status: statusOf(e), message: e?.message, thrown: e })
      }
    }
    const comparable = ({ thrown, ...r }) => r
    assert.deepEqual(comparable(results[1]), comparable(results[0]), 'memory:// path differs from the RedisLikeClient path')
    assert.deepEqual(comparable(results[2]), comparable(results[0]), 'sans-IO path differs from the RedisLikeClient path')
    if (results[0].error) throw results[0].thrown
    return results[0].ok
  },
}

async function runHmacCase(c) {
  const op = HMAC_OPS[c.op]
  assert.ok(op, `unknown op '${c.op}' in case ${c.id}`)
  let value
  let error
  try {
    value = await op(c.input)
  } catch (e) {
    error = e
  }
  if ('error' in c.expect) {
    assert.ok(error, `expected error ${c.expect.error}, got ${JSON.stringify(value)}`)
    assert.equal(codeOf(error), c.expect.error, `error code (message: ${error.message})`)
    if (c.expect.status !== undefined) assert.equal(statusOf(error), c.expect.status, 'HTTP status')
  } else {
    if (error) throw error
    assert.deepEqual(value, c.expect.ok)
  }
}


// ------------------------------------------------------------------ auth primitives

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

const PRIMITIVE_OPS = {
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
    const ok = await native.passwordVerifyArgon2(i.password, i.hash)
    assert.equal(native.passwordVerifyArgon2Sync(i.password, i.hash), ok)
    return ok
  },
  argon2_needs_rehash(i) {
    return native.passwordNeedsRehash(i.hash, { memoryCost: i.m, timeCost: i.t, parallelism: i.p })
  },
  jwt_sign(i) {
    const ks = new native.KeySet()
    ks.addHmac(i.secret, { alg: i.alg, kid: i.kid })
    return ks.sign(i.payloadJson)
  },
  jwt_verify(i) {
    const ks = new native.KeySet()
    ks.addHmac(i.secret, { algorithms: i.algorithms })
    return JSON.parse(ks.verify(i.token, verifyOpts(i)))
  },
  jwt_verify_pem(i) {
    const ks = new native.KeySet()
    ks.addPem(i.publicKeyPem, { alg: i.alg })
    return JSON.parse(ks.verify(i.token, verifyOpts(i)))
  },
  jwt_sign_pem(i) {
    const ks = new native.KeySet()
    ks.addPem(i.privateKeyPem, { alg: i.alg, kid: i.kid })
    return ks.sign(i.payloadJson)
  },
  jwks_from_pem(i) {
    const ks = new native.KeySet()
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

async function runPrimitiveCase(c) {
  const op = PRIMITIVE_OPS[c.op]
  assert.ok(op, `unknown op ${c.op}`)
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
}

// ------------------------------------------------------------------ realtime (realtime.json)

function probe() {
  return {
    closed: false,
    send() {},
    comment() {},
    close() {
      this.closed = true
    },
    on_close() {},
  }
}

/** The guard over a registry holding one probe per candidate identity of the event. */
function runGuard(event, requiredRole) {
  const candidates = new Set()
  for (const v of [event.account_id, event.target_account_id, event.metadata?.session_id]) {
    if (typeof v === 'string' && v !== '') candidates.add(v)
  }
  const lines = []
  const log = { info: (...a) => lines.push(['info', ...a]), warn: (...a) => lines.push(['warn', ...a]), error: (...a) => lines.push(['error', ...a]) }
  const registry = new SubscriberRegistry({ log })
  const probes = new Map()
  for (const id of candidates) {
    const p = probe()
    registry.subscribe(p, { channels: ['audit_log'], scope: id, groups: [id] })
    probes.set(id, p)
  }
  create_sse_auth_guard(registry, requiredRole, log)(event)
  const closed = [...probes].filter(([, p]) => p.closed).map(([id]) => id)
  return { closed, lines, candidates }
}

async function frameOf(write) {
  const { response, stream } = create_sse_response(null, { info() {}, warn() {}, error() {} })
  write(stream)
  stream.close()
  const body = await response.text()
  assert.ok(body.startsWith(SSE_CONNECTED_COMMENT))
  return body.slice(SSE_CONNECTED_COMMENT.length)
}

async function runRealtimeCase(c) {
    switch (c.op) {
      case 'guard_decision': {
        const { event, required_role } = c.input
        assert.deepEqual(guard_decision(event, required_role), c.expected)
        const { closed, lines, candidates } = runGuard(event, required_role)
        if (c.expected === null) {
          assert.deepEqual(closed, [])
          assert.deepEqual(lines, [])
        } else {
          const { kind, identity, event_type } = c.expected
          assert.ok(candidates.has(identity), 'the expected identity is one of the event fields')
          assert.deepEqual(closed, [identity])
          const what = kind === 'session' ? 'session' : 'account'
          assert.deepEqual(lines, [['info', `SSE auth guard: closed 1 stream(s) for ${what} ${identity} (${event_type})`]])
        }
        break
      }
      case 'session_hash':
        assert.equal(hash_session_token(c.input.token), c.expected)
        break
      case 'data_frame':
        assert.equal(await frameOf((s) => s.send(c.input.data)), c.expected)
        break
      case 'comment_frame':
        assert.equal(await frameOf((s) => s.comment(c.input.text)), c.expected)
        break
      default:
        assert.fail(`${c.id}: unknown op ${c.op}`)
    }
}

// ------------------------------------------------------------------ the message track's canonical JSON

// `{"$nonplain": {...}}` is a class instance with those own properties, in that order
// (what ffi-tests/tools/gen-canonical-oracle.mjs built when it asked the original).
class NonPlain {}
function revive(v, marker) {
  if (Array.isArray(v)) return v.map((x) => revive(x, marker))
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v)
    if (keys.length === 1 && keys[0] === marker) {
      const inner = v[marker]
      if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return revive(inner, marker)
      const o = new NonPlain()
      for (const k of Object.keys(inner)) {
        Object.defineProperty(o, k, { value: revive(inner[k], marker), enumerable: true, writable: true, configurable: true })
      }
      return o
    }
    const out = {}
    for (const k of keys) Object.defineProperty(out, k, { value: revive(v[k], marker), enumerable: true, writable: true, configurable: true })
    return out
  }
  return v
}

const CANONICAL_MARKER = load('canonical-json-oracle.json').marker
function runCanonicalCase(c) {
  assert.equal(native.toMessageString(revive(JSON.parse(c.json), CANONICAL_MARKER)), c.canonical)
}

// ------------------------------------------------------------------ the files

const FAMILIES = [
  { name: 'hmac', match: (f) => /^hmac-.*\.json$/.test(f), run: runHmacCase },
  { name: 'primitives', match: (f) => /^(password-.*|jwt-.*|totp-.*|pkce-.*|policy)\.json$/.test(f), run: runPrimitiveCase },
  { name: 'realtime', match: (f) => f === 'realtime.json', run: runRealtimeCase },
  { name: 'canonical', match: (f) => f === 'canonical-json-oracle.json', run: runCanonicalCase },
]

/** Vector files of another language's API, with the reason Node does not run them. */
const NOT_FOR_NODE = {
  'python-json-dumps.json': "the text of Python's json.dumps (what PyJWT signs); the Node drop-ins sign JSON.stringify's text",
}

const files = readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort()
const ran = {}
for (const file of files) {
  const families = FAMILIES.filter((f) => f.match(file))
  if (NOT_FOR_NODE[file]) {
    assert.equal(families.length, 0, `${file} is both run and listed as not for Node`)
    continue
  }
  test(`vectors/${file}`, async (t) => {
    assert.equal(families.length, 1, `${file}: no family of this runner claims it (add one, or list it in NOT_FOR_NODE)`)
    const doc = load(file)
    assert.ok(doc.cases.length > 0)
    for (const c of doc.cases) {
      await t.test(c.id, () => families[0].run(c))
      ran[file] = (ran[file] ?? 0) + 1
    }
  })
}

test('vectors/naskot/hash-client-secret.json', async (t) => {
  const doc = load(join('naskot', 'hash-client-secret.json'))
  assert.equal(doc.cases.length, 20)
  for (const c of doc.cases) {
    await t.test(c.id, () => {
      // The original's test calls hashClientSecret(secret, secretToken || undefined).
      assert.equal(core.hashClientSecret(c.secret, c.secretToken || undefined), c.expectedHex)
      assert.equal(core.hashClientSecret(c.secret, c.secretToken), c.expectedHex)
    })
  }
})

test('vectors/naskot/sign-request.json', async (t) => {
  const doc = load(join('naskot', 'sign-request.json'))
  assert.equal(doc.cases.length, 33)
  for (const c of doc.cases) {
    await t.test(c.id, () => {
      const input = { method: c.method, path: c.path, timestamp: c.timestamp, nonce: c.nonce, body: c.body, secret: c.secret }
      assert.equal(core.signRequest(input), c.expectedHex)
      // The signature must also be what verification accepts.
      assert.equal(core.safeEqualHex(core.signRequest(input), c.expectedHex.toUpperCase()), true)
    })
  }
})

/**
 * The recorded differential vectors (vectors/differential/, ffi-tests/differential/README.md):
 * each file is replayed by one test file of this folder (run with it by `node --test
 * ffi-tests/node/`), through the one replay loop, ../differential/replay.mjs.
 */
const REPLAYED_BY = {
  'fuz-app-realtime.json': 'realtime-differential.test.mjs',
  'node-auth-core.json': 'primitives-differential.test.mjs',
  'node-hmac-auth-core.json': 'hmac-differential.test.mjs',
  'propagation.json': 'propagation-differential.test.mjs',
}

test('every differential vector file is replayed by the test file this runner names', () => {
  const here = dirname(fileURLToPath(import.meta.url))
  const recorded = readdirSync(join(VECTORS, 'differential')).filter((f) => f.endsWith('.json')).sort()
  assert.deepEqual(recorded, Object.keys(REPLAYED_BY).sort(), 'a differential vector file needs a replay (add it to REPLAYED_BY)')
  for (const [file, runner] of Object.entries(REPLAYED_BY)) {
    const src = readFileSync(join(here, runner), 'utf8')
    assert.match(src, /from '\.\.\/differential\/replay\.mjs'/, `${runner} replays through ../differential/replay.mjs`)
    assert.ok(src.includes(`loadVectors('${file.replace(/\.json$/, '')}')`), `${runner} loads differential/${file}`)
  }
  const replays = readdirSync(here).filter((f) => f.endsWith('-differential.test.mjs')).sort()
  assert.deepEqual(replays, Object.values(REPLAYED_BY).sort(), 'a differential replay of this folder is not named in REPLAYED_BY')
})

test('every vector file was run or is listed with a reason', () => {
  const folders = readdirSync(VECTORS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
  assert.deepEqual(folders, ['differential', 'naskot'], 'a new vector folder needs a runner here')
  const naskot = readdirSync(join(VECTORS, 'naskot')).filter((f) => f.endsWith('.json')).sort()
  assert.deepEqual(naskot, ['hash-client-secret.json', 'sign-request.json'], 'a new naskot vector file needs a runner')
  for (const file of files) assert.ok(NOT_FOR_NODE[file] || ran[file] > 0, `${file} ran no case`)
  const realtime = {}
  for (const c of load('realtime.json').cases) realtime[c.op] = (realtime[c.op] ?? 0) + 1
  assert.deepEqual(realtime, { guard_decision: 26, session_hash: 4, data_frame: 8, comment_frame: 3 })
})
