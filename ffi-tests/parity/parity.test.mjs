// Node runner of the cross-language parity cases (ffi-tests/parity/cases.json): every case
// goes through a public API (the drop-in @authcore/node-hmac-auth-core and
// @authcore/node-hmac-auth-core-propagation, and the addon's primitives as
// @authcore/node-auth-core re-exports them under `native`), and its outcome (the error code,
// the HTTP status, the message) must be the one the case states. An op this runner does not
// know fails; a case marked `known_divergence` for Node is reported (and reported as FIXED
// once it agrees, until the mark goes).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import * as hmac from '@authcore/node-hmac-auth-core'
import { createPropagator } from '@authcore/node-hmac-auth-core-propagation'
import { native } from '@authcore/node-auth-core'
import { create_audit_log_sse } from '@authcore/fuz-app-realtime'

const here = path.dirname(fileURLToPath(import.meta.url))
const doc = JSON.parse(fs.readFileSync(path.join(here, 'cases.json'), 'utf8'))
const LANG = 'node'

/** The special values JSON cannot hold: {"$number": "NaN"|"Infinity"|"-Infinity"},
 * {"$repeat": [text, n]}; everything else as is (recursively). */
function decode(v) {
  if (Array.isArray(v)) return v.map(decode)
  if (v && typeof v === 'object') {
    if ('$number' in v) return Number(v.$number)
    if ('$repeat' in v) return v.$repeat[0].repeat(v.$repeat[1])
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]))
  }
  return v
}

/** The outcome of a thrown value: the drop-ins keep the originals' error classes, so a
 * plain `Error` is the original's INVALID_ARGUMENT and a `TypeError` with a Node code its
 * INVALID_INPUT (ffi-tests/README.md); everything else carries `code` and `status`. */
function outcomeOf(e) {
  if (e && typeof e.code === 'string' && !(e instanceof TypeError && e.code.startsWith('ERR_'))) {
    return { error: e.code, status: e.status, message: e.message }
  }
  if (e instanceof TypeError) return { error: 'INVALID_INPUT', message: e.message }
  if (e instanceof Error && e.constructor === Error) return { error: 'INVALID_ARGUMENT', message: e.message }
  return { error: `UNEXPECTED ${String(e)}` }
}

const clientHeaders = (i, sig) => {
  const h = { ...i.headers }
  if (sig !== undefined) h['x-signature'] = sig
  return h
}

/** The signature a client holding `secret` sends for the case's request. */
function signFor(i) {
  return hmac.signRequest({
    method: i.method,
    path: i.path,
    timestamp: Number(i.headers['x-timestamp']),
    nonce: i.headers['x-nonce'],
    body: i.signBody ?? i.body ?? '',
    secret: hmac.hashClientSecret(i.client.secret),
  })
}

// `memory://<name>` is one embedded store per name for the whole process: each case gets
// its own, as each Python case gets a new memory store.
let stores = 0
const freshStore = () => `memory://parity-${process.pid}-${++stores}`

async function withAuth(options, fn) {
  const auth = hmac.initializeHmacHttpAuth({ redis: freshStore(), ...options })
  return fn(auth)
}

function keySet(i) {
  const ks = new native.KeySet()
  if (i.hmacSecret !== undefined) ks.addHmac(i.hmacSecret)
  return ks
}

async function withMessageAuth(i, fn) {
  const auth = hmac.initializeHmacMessageAuth({ redis: freshStore() })
  if (i.client) await auth.clients.setSecret(i.client.id, i.client.secret, i.client.expiresAt ?? null)
  return fn(auth)
}

const silent = { info() {}, warn() {}, error() {} }

const OPS = {
  async verify(i) {
    return withAuth({}, async (auth) => {
      if (i.client) {
        await auth.clients.setSecret(i.client.id, i.client.secret, i.client.expiresAt ?? null, i.client.allowedIps ?? null)
      }
      const r = await auth.verifyHttpSignature({
        method: i.method,
        path: i.path,
        headers: clientHeaders(i, i.sign ? signFor(i) : undefined),
        rawBody: i.body,
        now: i.now,
        maxSkewMs: i.maxSkewMs,
        metadata: i.metadata,
      })
      return { clientId: r.clientId, timestamp: r.timestamp, nonce: r.nonce }
    })
  },
  async message_sign(i) {
    return withMessageAuth(i, async (auth) => {
      const m = await auth.signMessage({ clientId: i.clientId, message: i.message })
      return { clientId: m.clientId }
    })
  },
  async message_verify(i) {
    return withMessageAuth(i, async (auth) => {
      const signature = i.signWith !== undefined
        ? (await auth.signMessage({ clientId: i.clientId, message: i.signWith })).signature
        : i.signature
      await auth.verifyMessage({ clientId: i.clientId, message: i.message, signature })
      return true
    })
  },
  async sign_message_pure(i) {
    const m = hmac.signMessage({ clientId: i.clientId, message: i.message, secret: i.secret })
    return { clientId: m.clientId }
  },
  async regenerate_secret(i) {
    return withAuth({}, async (auth) => {
      await auth.clients.regenerateSecret(i.clientId)
      return true
    })
  },
  async audit_event(i) {
    create_audit_log_sse({ log: silent }).on_audit_event(i.event)
    return true
  },
  async init_http_auth(i) {
    const auth = hmac.initializeHmacHttpAuth({ redis: freshStore(), ...i.options })
    return { maxSkewMs: auth.maxSkewMs, namespace: auth.namespace }
  },
  async create_client(i) {
    return withAuth({}, async (auth) => {
      const c = await auth.clients.create({ clientId: i.clientId, ...i.options })
      return { clientId: c.clientId, allowedIps: c.allowedIps, secretLength: c.secret.length }
    })
  },
  async set_allowed_ips(i) {
    return withAuth({}, async (auth) => {
      if (i.existing) await auth.clients.setSecret(i.clientId, 'parity-secret')
      await auth.clients.setAllowedIps(i.clientId, i.allowedIps)
      return { allowedIps: (await auth.clients.get(i.clientId)).allowedIps }
    })
  },
  async normalize_allowed_ips(i) {
    return withAuth({}, async (auth) => {
      await auth.clients.setSecret('parity-normalize', 'parity-secret', null, i.rules)
      return (await auth.clients.get('parity-normalize')).allowedIps
    })
  },
  async jwt_verify(i) {
    const claims = JSON.parse(keySet(i).verify(i.token, { now: i.now }))
    return claims
  },
  async jwt_add_pem(i) {
    new native.KeySet().addPem(i.pem, { alg: i.alg })
    return true
  },
  async jwt_add_jwks(i) {
    return new native.KeySet().addJwks(i.jwks)
  },
  async totp_generate(i) {
    return native.totpGenerate(i.secret, { now: i.now, ...i.options }).length
  },
  async jwt_add_hmac(i) {
    new native.KeySet().addHmac(i.secret)
    return true
  },
  async totp_verify(i) {
    return native.totpVerify(i.code, i.secret, { now: i.now })
  },
  async password_hasher(i) {
    const { hashLength, ...rest } = i.options
    const h = native.createPasswordHasherSync(hashLength === undefined ? rest : { ...rest, outputLen: hashLength })
    return h.needsRehash('$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG')
  },
  async bcrypt_hash(i) {
    const h = native.bcryptHashSync(i.password, i.cost)
    return h.slice(0, 7)
  },
  async token_store(i) {
    const ks = new native.KeySet()
    ks.addHmac('parity-token-store-secret-0123456789')
    new native.TokenManager(ks, { issuer: 'https://parity.example', store: i.store })
    return true
  },
  async create_propagator(i) {
    const o = { ...i.options }
    if (o.withAuth) o.hmacHttpAuth = hmac.initializeHmacHttpAuth({ redis: freshStore() })
    delete o.withAuth
    let p
    try {
      p = await createPropagator(o)
    } catch (e) {
      // The original's createPropagator throws one plain Error, buildQueueName's, without a
      // code (spec naskot-propagation §2.6); the drop-in keeps it: it is INVALID_QUEUE_NAME.
      // Only that message is relabelled: any other code-less error fails the case.
      const queueNameMessage = `Invalid amqpQueue "${o.amqpQueue}": must match [A-Za-z0-9-]+`
      if (
        e instanceof Error &&
        Object.getPrototypeOf(e) === Error.prototype &&
        e.code === undefined &&
        e.message === queueNameMessage
      ) {
        throw Object.assign(new Error(e.message), { code: 'INVALID_QUEUE_NAME' })
      }
      throw e
    }
    await p.close()
    return true
  },
  async pkce_verify(i) {
    return native.pkceVerify(i.verifier, i.challenge, i.method ?? 'S256')
  },
  async policy_evaluate(i) {
    return native.policyEvaluateRequest(JSON.stringify({ documents: i.documents, ...i.request }))
  },
  async policy_validate(i) {
    return native.policyValidateDocument(i.document)
  },
}

for (const c of doc.cases) {
  const divergence = c.known_divergence?.languages?.includes(LANG) ? c.known_divergence : null
  test(`${c.id} [${c.op}]`, async (t) => {
    const op = OPS[c.op]
    assert.ok(op, `the Node runner does not know op ${c.op}`)
    let got
    try {
      got = { ok: await op(decode(c.input)) }
    } catch (e) {
      got = outcomeOf(e)
    }
    const problems = mismatches(c.expect, got)
    if (divergence) {
      // Reported, never a failure either way: a fix landing elsewhere must not break the
      // suite; it shows up here as FIXED until the mark goes.
      const line = problems.length > 0
        ? `parity: KNOWN DIVERGENCE ${c.id} (node): ${problems.join('; ')} (${divergence.note})`
        : `parity: FIXED ${c.id} (node) agrees now: remove its known_divergence mark`
      t.diagnostic(line)
      return
    }
    assert.deepEqual(problems, [], `${c.id}: got ${JSON.stringify(got)}`)
  })
}

/** JSON with object keys sorted (claims keep the token's order; the case file does not). */
function canonical(v) {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x)
}

/** What differs between the expected and the actual outcome (empty = the same). */
function mismatches(expect, got) {
  const out = []
  if ('ok' in expect) {
    if (!('ok' in got)) out.push(`expected success, got ${got.error} ${got.status ?? ''} ${JSON.stringify(got.message)}`)
    else if (canonical(got.ok) !== canonical(expect.ok)) out.push(`ok ${JSON.stringify(got.ok)} != ${JSON.stringify(expect.ok)}`)
    return out
  }
  if (!('error' in got)) return [`expected ${expect.error}, got success ${JSON.stringify(got.ok)}`]
  if (got.error !== expect.error) out.push(`code ${got.error} != ${expect.error}`)
  if ('status' in expect && got.status !== expect.status) out.push(`status ${got.status} != ${expect.status}`)
  if ('message' in expect && got.message !== expect.message) out.push(`message ${JSON.stringify(got.message)} != ${JSON.stringify(expect.message)}`)
  return out
}

test('the case file: unique ids, a known op, an expected outcome, few divergences', () => {
  const ids = new Set()
  for (const c of doc.cases) {
    assert.ok(!ids.has(c.id), `duplicate id ${c.id}`)
    ids.add(c.id)
    assert.ok(OPS[c.op], `${c.id}: op ${c.op}`)
    assert.ok('ok' in c.expect || typeof c.expect.error === 'string', `${c.id}: expect`)
  }
  const marked = doc.cases.filter((c) => c.known_divergence)
  console.log(`parity: ${doc.cases.length} cases, ${marked.length} marked known_divergence`)
  assert.ok(marked.length <= 7, 'keep the known divergences few: fix them')
})
