'use strict'
const crypto = require('node:crypto')
const native = require('./native')
const { AuthError, withCause } = require('./errors')
const { bcryptjsCompare } = require('./password.service')

/**
 * awesome-node-auth's `ApiKeyService(saltRounds = 10)`: `ak_` + 48 hex keys, bcrypt-hashed
 * records (readable by the original), `verifyKey` async. Hashing and verification run on
 * the libuv pool. `options.hash: 'sha256'` (an addition) stores SHA-256 hex instead:
 * the key has 192 bits of entropy, so a slow KDF buys nothing and costs a bcrypt per
 * request; both formats verify.
 */
class ApiKeyService {
  constructor(saltRounds = 10, options = {}) {
    this.saltRounds = saltRounds
    this.hashFormat = options.hash === 'sha256' ? 'sha256' : 'bcrypt'
  }

  async createKey(store, options) {
    const { rawKey, keyPrefix } = native.generateNodeApiKey()
    const rounds = options.saltRounds ?? this.saltRounds
    const keyHash = this.hashFormat === 'sha256' ? native.hashApiToken(rawKey) : await native.bcryptHash(rawKey, rounds)
    const record = {
      id: crypto.randomUUID(),
      name: options.name,
      keyHash,
      keyPrefix,
      serviceId: options.serviceId ?? null,
      scopes: options.scopes ?? [],
      allowedIps: options.allowedIps ?? null,
      isActive: true,
      expiresAt: options.expiresAt ?? null,
      createdAt: new Date(),
      lastUsedAt: null,
    }
    await store.save(record)
    return { rawKey, record }
  }

  async verifyKey(rawKey, hash) {
    if (typeof rawKey !== 'string' || typeof hash !== 'string') {
      throw new Error(`Illegal arguments: ${typeof rawKey}, ${typeof hash}`)
    }
    // SHA-256 hex records (our `hash: 'sha256'` option) compare natively; everything else
    // is bcryptjs's `compare`, refusals and all.
    if (/^[0-9a-f]{64}$/.test(hash)) return (await native.matchTokenHash(rawKey, [hash])) !== null
    return bcryptjsCompare(rawKey, hash)
  }

  extractPrefix(rawKey) {
    return rawKey.substring(0, 11)
  }
}

const MESSAGES = {
  API_KEY_INVALID: ['Invalid API key', 'INVALID_KEY'],
  API_KEY_REVOKED: ['API key has been revoked', 'KEY_REVOKED'],
  API_KEY_EXPIRED: ['API key has expired', 'KEY_EXPIRED'],
  API_KEY_IP_BLOCKED: ['IP address not allowed for this API key', 'IP_NOT_ALLOWED'],
  API_KEY_INSUFFICIENT_SCOPE: [null, 'INSUFFICIENT_SCOPE'],
}

function timeMs(v) {
  if (v === null || v === undefined) return undefined
  const t = v instanceof Date ? v.getTime() : new Date(v).getTime()
  // An unreadable expiry fails closed (node-auth compared a Date with a string: never expired).
  return Number.isNaN(t) ? 0 : t
}

async function candidatesFor(store, prefix) {
  const found =
    typeof store.findAllByPrefix === 'function' ? await store.findAllByPrefix(prefix) : await store.findByPrefix(prefix)
  if (!found) return []
  return Array.isArray(found) ? found.filter(Boolean) : [found]
}

/**
 * awesome-node-auth's `ApiKeyStrategy(store, {enforceIpAllowlist = true, requiredScopes,
 * auditLog = false})`. Same header extraction, validation order, codes, statuses, messages
 * and audit entries. Differences: a store may return several records for a prefix
 * (`findByPrefix` returning an array, or an optional `findAllByPrefix`), and all are
 * checked, so a prefix collision never rejects a valid key; CIDR entries work for IPv6 and
 * a malformed prefix length matches nothing.
 */
class ApiKeyStrategy {
  constructor(store, options = {}) {
    this.store = store
    this.options = options
  }

  async authenticate(headers, remoteIp) {
    const rawKey = this.extractKey(headers || {})
    if (!rawKey) throw new AuthError('API key is required', 'API_KEY_MISSING', 401)
    const records = await candidatesFor(this.store, rawKey.substring(0, 11))
    // node-auth's bcryptjs compare rejects a malformed 60-character stored hash with its own
    // Error (a 500 in the middleware), before any audit entry: so do we.
    for (const r of records) {
      const h = r.keyHash
      if (typeof h === 'string' && !/^[0-9a-f]{64}$/.test(h)) {
        const refusal = native.bcryptjsCompareRefusal(h)
        if (refusal !== null) throw new Error(refusal)
      }
    }
    const candidates = records.map((r) => ({
      keyHash: typeof r.keyHash === 'string' ? r.keyHash : '',
      isActive: r.isActive !== false,
      expiresAtMs: timeMs(r.expiresAt),
      allowedIps: Array.isArray(r.allowedIps) ? r.allowedIps.map(String) : undefined,
      scopes: Array.isArray(r.scopes) ? r.scopes.map(String) : [],
    }))
    let idx
    try {
      idx = await native.authenticateNodeApiKey(rawKey, candidates, {
        nowMs: Date.now(),
        remoteIp: typeof remoteIp === 'string' && remoteIp ? remoteIp : undefined,
        enforceIpAllowlist: this.options.enforceIpAllowlist !== false,
        requiredScopes: this.options.requiredScopes ?? [],
      })
    } catch (e) {
      const known = e && MESSAGES[e.code]
      if (!known) throw e
      let record = null
      if (e.code !== 'API_KEY_INVALID' && this.options.auditLog && this.store.logUsage) {
        // The failing record is the one whose hash matched: recompute its index cheaply.
        record = await this.matchedRecord(rawKey, records)
      }
      await this.appendAuditLog(record, remoteIp, headers || {}, false, known[1])
      const message = known[0] ?? e.message
      throw withCause(new AuthError(message, e.code, e.status), e)
    }
    const record = records[idx]
    await this.store.updateLastUsed(record.id, new Date())
    await this.appendAuditLog(record, remoteIp, headers || {}, true)
    return {
      keyId: record.id,
      keyPrefix: record.keyPrefix,
      name: record.name,
      serviceId: record.serviceId,
      scopes: record.scopes ?? [],
    }
  }

  async matchedRecord(rawKey, records) {
    if (records.length === 1) return records[0]
    const i = await native.matchTokenHash(
      rawKey,
      records.map((r) => r.keyHash),
    )
    return i === null ? null : records[i]
  }

  extractKey(headers) {
    const auth = headers['authorization']
    if (typeof auth === 'string' && auth.startsWith('ApiKey ')) return auth.slice(7).trim() || null
    const x = headers['x-api-key']
    if (typeof x === 'string' && x.trim()) return x.trim()
    return null
  }

  async appendAuditLog(record, ip, headers, success, failureReason) {
    if (!this.options.auditLog || !this.store.logUsage) return
    const entry = {
      keyId: record?.id ?? '<unknown>',
      timestamp: new Date(),
      ip,
      userAgent: typeof headers['user-agent'] === 'string' ? headers['user-agent'] : undefined,
      success,
      failureReason,
    }
    try {
      await this.store.logUsage(entry)
    } catch {
      // An audit failure never blocks the request.
    }
  }
}

/**
 * Express middleware: `req.apiKey = context`, or `{error, code}` with the error's status;
 * any other failure is `500 {error: 'Internal server error'}`, as in node-auth.
 */
function createApiKeyMiddleware(store, options = {}) {
  const strategy = new ApiKeyStrategy(store, options)
  return (req, res, next) => {
    strategy.authenticate(req.headers, req.ip).then(
      (ctx) => {
        req.apiKey = ctx
        next()
      },
      (err) => {
        if (err instanceof AuthError) res.status(err.statusCode).json({ error: err.message, code: err.code })
        // node-auth answers any other failure (a store that throws, ...) itself.
        else res.status(500).json({ error: 'Internal server error' })
      },
    )
  }
}

module.exports = { ApiKeyService, ApiKeyStrategy, createApiKeyMiddleware }
