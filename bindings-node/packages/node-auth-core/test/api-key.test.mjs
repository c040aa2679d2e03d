// ApiKeyService / ApiKeyStrategy / createApiKeyMiddleware: node-auth's
// tests/api-key.test.ts plus prefix collisions, IPv6 CIDR and bcryptjs interop.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import bcryptjs from 'bcryptjs'
import express from 'express'
import { ApiKeyService, ApiKeyStrategy, createApiKeyMiddleware, AuthError } from '@authcore/node-auth-core'
import { memoryKeyStore } from './helpers.mjs'

const svc = new ApiKeyService(4) // low cost keeps the suite fast; format is what matters

async function withKey(opts = {}, storeOpts = {}) {
  const store = memoryKeyStore(storeOpts)
  const { rawKey, record } = await svc.createKey(store, { name: 'ci', scopes: ['tools:read'], ...opts })
  return { store, rawKey, record }
}

const rejectsCode = (code, status) => (e) => e instanceof AuthError && e.code === code && e.statusCode === status

// ---- ApiKeyService -----------------------------------------------------------------
test('raw key is ak_ + 48 hex; save called once; record shape; raw key not in the record', async () => {
  const { store, rawKey, record } = await withKey()
  assert.match(rawKey, /^ak_[0-9a-f]{48}$/)
  assert.equal(store.rows.length, 1)
  assert.equal(record.name, 'ci')
  assert.deepEqual(record.scopes, ['tools:read'])
  assert.equal(record.isActive, true)
  assert.match(record.keyHash, /^\$2b\$04\$/)
  assert.match(record.keyPrefix, /^ak_[0-9a-f]{8}$/)
  assert.equal(record.keyPrefix.length, 11)
  assert.ok(rawKey.startsWith(record.keyPrefix))
  assert.ok(!JSON.stringify(record).includes(rawKey))
  assert.deepEqual(Object.keys(record), ['id', 'name', 'keyHash', 'keyPrefix', 'serviceId', 'scopes', 'allowedIps', 'isActive', 'expiresAt', 'createdAt', 'lastUsedAt'])
  assert.equal(record.serviceId, null)
  assert.equal(record.allowedIps, null)
  assert.equal(record.lastUsedAt, null)
})

test('verifyKey is true for the right key and false for a wrong one; bcryptjs agrees both ways', async () => {
  const { rawKey, record } = await withKey()
  assert.equal(await svc.verifyKey(rawKey, record.keyHash), true)
  assert.equal(await svc.verifyKey(rawKey.slice(0, -1) + '0', record.keyHash), rawKey.endsWith('0'))
  assert.equal(bcryptjs.compareSync(rawKey, record.keyHash), true)
  const theirs = bcryptjs.hashSync(rawKey, 4)
  assert.equal(await svc.verifyKey(rawKey, theirs), true)
  assert.equal(await svc.verifyKey(rawKey, 'garbage'), false)
  assert.equal(new ApiKeyService().saltRounds, 10)
})

test('expiresAt, allowedIps and serviceId are persisted; sha256 format is an option', async () => {
  const expiresAt = new Date(Date.now() + 3600_000)
  const { record } = await withKey({ expiresAt, allowedIps: ['10.0.0.0/8'], serviceId: 'svc-1' })
  assert.equal(record.expiresAt, expiresAt)
  assert.deepEqual(record.allowedIps, ['10.0.0.0/8'])
  assert.equal(record.serviceId, 'svc-1')
  const fast = new ApiKeyService(10, { hash: 'sha256' })
  const store = memoryKeyStore()
  const { rawKey, record: r2 } = await fast.createKey(store, { name: 'x' })
  assert.match(r2.keyHash, /^[0-9a-f]{64}$/)
  assert.equal(await fast.verifyKey(rawKey, r2.keyHash), true)
  assert.equal((await new ApiKeyStrategy(store).authenticate({ 'x-api-key': rawKey })).keyId, r2.id)
})

// ---- ApiKeyStrategy ----------------------------------------------------------------
test('auth via Authorization: ApiKey and via X-Api-Key; updateLastUsed(id, Date) called', async () => {
  const { store, rawKey, record } = await withKey()
  const s = new ApiKeyStrategy(store)
  const ctx = await s.authenticate({ authorization: `ApiKey ${rawKey}` }, '1.2.3.4')
  assert.deepEqual(ctx, { keyId: record.id, keyPrefix: record.keyPrefix, name: 'ci', serviceId: null, scopes: ['tools:read'] })
  assert.equal(store.calls.updateLastUsed[0][0], record.id)
  assert.ok(store.calls.updateLastUsed[0][1] instanceof Date)
  assert.equal((await s.authenticate({ 'x-api-key': `  ${rawKey} ` })).keyId, record.id)
})

test('missing, wrong tail, unknown prefix: API_KEY_MISSING / API_KEY_INVALID (401)', async () => {
  const { store, rawKey } = await withKey()
  const s = new ApiKeyStrategy(store)
  await assert.rejects(s.authenticate({}), rejectsCode('API_KEY_MISSING', 401))
  await assert.rejects(s.authenticate({ authorization: 'Bearer x' }), rejectsCode('API_KEY_MISSING', 401))
  const wrongTail = rawKey.slice(0, 11) + 'f'.repeat(40)
  await assert.rejects(s.authenticate({ 'x-api-key': wrongTail }), (e) => rejectsCode('API_KEY_INVALID', 401)(e) && e.message === 'Invalid API key')
  await assert.rejects(s.authenticate({ 'x-api-key': 'ak_00000000' + 'a'.repeat(40) }), rejectsCode('API_KEY_INVALID', 401))
})

test('revoked, expired (past), future expiry OK', async () => {
  const { store, rawKey, record } = await withKey()
  const s = new ApiKeyStrategy(store)
  record.isActive = false
  await assert.rejects(s.authenticate({ 'x-api-key': rawKey }), (e) => rejectsCode('API_KEY_REVOKED', 401)(e) && e.message === 'API key has been revoked')
  record.isActive = true
  record.expiresAt = new Date(Date.now() - 1000)
  await assert.rejects(s.authenticate({ 'x-api-key': rawKey }), (e) => rejectsCode('API_KEY_EXPIRED', 401)(e) && e.message === 'API key has expired')
  record.expiresAt = new Date(Date.now() + 60_000)
  assert.equal((await s.authenticate({ 'x-api-key': rawKey })).keyId, record.id)
})

test('IP allow-list: exact, miss, CIDR, enforceIpAllowlist false, ::ffff: mapping, IPv6 CIDR', async () => {
  const { store, rawKey, record } = await withKey({ allowedIps: ['192.168.1.1'] })
  const s = new ApiKeyStrategy(store)
  const h = { 'x-api-key': rawKey }
  assert.ok(await s.authenticate(h, '192.168.1.1'))
  await assert.rejects(s.authenticate(h, '192.168.1.2'), (e) => rejectsCode('API_KEY_IP_BLOCKED', 403)(e) && e.message === 'IP address not allowed for this API key')
  assert.ok(await s.authenticate(h, '::ffff:192.168.1.1'))
  assert.ok(await new ApiKeyStrategy(store, { enforceIpAllowlist: false }).authenticate(h, '8.8.8.8'))
  record.allowedIps = ['10.0.0.0/8']
  assert.ok(await s.authenticate(h, '10.42.0.1'))
  await assert.rejects(s.authenticate(h, '11.0.0.1'), rejectsCode('API_KEY_IP_BLOCKED', 403))
  await assert.rejects(s.authenticate(h), rejectsCode('API_KEY_IP_BLOCKED', 403))
  record.allowedIps = ['2001:db8::/32']
  assert.ok(await s.authenticate(h, '2001:db8::7'))
  record.allowedIps = ['10.0.0.0/33'] // malformed: matches nothing (node-auth: odd masks)
  await assert.rejects(s.authenticate(h, '10.0.0.1'), rejectsCode('API_KEY_IP_BLOCKED', 403))
})

test('scopes: all present passes; missing gives API_KEY_INSUFFICIENT_SCOPE (403) naming them', async () => {
  const { store, rawKey } = await withKey({ scopes: ['a', 'b'] })
  const h = { 'x-api-key': rawKey }
  assert.ok(await new ApiKeyStrategy(store, { requiredScopes: ['a', 'b'] }).authenticate(h))
  await assert.rejects(
    new ApiKeyStrategy(store, { requiredScopes: ['a', 'c', 'd'] }).authenticate(h),
    (e) => rejectsCode('API_KEY_INSUFFICIENT_SCOPE', 403)(e) && e.message === 'API key missing required scopes: c, d',
  )
})

test('audit: success logged when on, nothing by default, unknown key logged as <unknown>', async () => {
  const { store, rawKey, record } = await withKey()
  const entries = []
  store.logUsage = async (e) => entries.push(e)
  await new ApiKeyStrategy(store).authenticate({ 'x-api-key': rawKey })
  assert.equal(entries.length, 0)
  const audited = new ApiKeyStrategy(store, { auditLog: true })
  await audited.authenticate({ 'x-api-key': rawKey, 'user-agent': 'ua/1' }, '1.1.1.1')
  assert.equal(entries[0].keyId, record.id)
  assert.equal(entries[0].success, true)
  assert.equal(entries[0].ip, '1.1.1.1')
  assert.equal(entries[0].userAgent, 'ua/1')
  await assert.rejects(audited.authenticate({ 'x-api-key': 'ak_' + 'e'.repeat(48) }))
  assert.deepEqual({ keyId: entries[1].keyId, success: entries[1].success, failureReason: entries[1].failureReason }, { keyId: '<unknown>', success: false, failureReason: 'INVALID_KEY' })
  record.isActive = false
  await assert.rejects(audited.authenticate({ 'x-api-key': rawKey }))
  assert.equal(entries[2].keyId, record.id)
  assert.equal(entries[2].failureReason, 'KEY_REVOKED')
  store.logUsage = async () => {
    throw new Error('audit store down')
  }
  record.isActive = true
  assert.ok(await audited.authenticate({ 'x-api-key': rawKey }))
})

test('prefix collisions are tolerated: every record with the prefix is checked (§6 item 33)', async () => {
  const store = memoryKeyStore({ multi: true })
  const a = await svc.createKey(store, { name: 'a' })
  const b = await svc.createKey(store, { name: 'b' })
  // Force both records onto one prefix, as ~65k keys make likely.
  b.record.keyPrefix = a.record.keyPrefix
  const forged = a.record.keyPrefix + b.rawKey.slice(11)
  b.record.keyHash = bcryptjs.hashSync(forged, 4)
  const s = new ApiKeyStrategy(store)
  assert.equal((await s.authenticate({ 'x-api-key': a.rawKey })).name, 'a')
  assert.equal((await s.authenticate({ 'x-api-key': forged })).name, 'b')
  // A node-auth store returns one record per prefix: the second key then fails. The
  // optional findAllByPrefix lets such a store expose every record.
  const single = memoryKeyStore()
  single.rows.push(a.record, b.record)
  await assert.rejects(new ApiKeyStrategy(single).authenticate({ 'x-api-key': forged }), rejectsCode('API_KEY_INVALID', 401))
  single.findAllByPrefix = async (p) => single.rows.filter((r) => r.keyPrefix === p)
  assert.equal((await new ApiKeyStrategy(single).authenticate({ 'x-api-key': forged })).name, 'b')
})

test('unknown prefix still costs a bcrypt (no enumeration by timing)', async () => {
  const store = memoryKeyStore()
  const k = await new ApiKeyService(10).createKey(store, { name: 'real' })
  const s = new ApiKeyStrategy(store)
  const knownPrefix = k.rawKey.slice(0, 11) + '0'.repeat(40)
  const known = []
  const unknown = []
  for (let i = 0; i < 3; i++) {
    let t0 = process.hrtime.bigint()
    await assert.rejects(s.authenticate({ 'x-api-key': knownPrefix }))
    known.push(Number(process.hrtime.bigint() - t0))
    t0 = process.hrtime.bigint()
    await assert.rejects(s.authenticate({ 'x-api-key': 'ak_ffffffff' + '0'.repeat(40) }))
    unknown.push(Number(process.hrtime.bigint() - t0))
  }
  const a = Math.min(...known)
  const b = Math.min(...unknown)
  assert.ok(b > a / 3, `unknown prefix ${b} ns vs known ${a} ns`)
})

// ---- createApiKeyMiddleware over express ------------------------------------------
test('middleware: 200 with req.apiKey, 401 missing/invalid/revoked, 403 insufficient scope', async () => {
  const { store, rawKey, record } = await withKey({ scopes: ['tools:read'] })
  const app = express()
  app.get('/r', createApiKeyMiddleware(store), (req, res) => res.json(req.apiKey))
  app.get('/w', createApiKeyMiddleware(store, { requiredScopes: ['tools:write'] }), (req, res) => res.json({}))
  const server = app.listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  const base = `http://127.0.0.1:${server.address().port}`
  const get = async (path, headers = {}) => {
    const r = await fetch(base + path, { headers })
    return [r.status, await r.json()]
  }
  try {
    let [st, body] = await get('/r', { authorization: `ApiKey ${rawKey}` })
    assert.equal(st, 200)
    assert.equal(body.keyId, record.id)
    assert.deepEqual(body.scopes, ['tools:read'])
    ;[st] = await get('/r', { 'x-api-key': rawKey })
    assert.equal(st, 200)
    ;[st, body] = await get('/r')
    assert.deepEqual([st, body], [401, { error: 'API key is required', code: 'API_KEY_MISSING' }])
    ;[st, body] = await get('/r', { 'x-api-key': 'ak_' + '1'.repeat(48) })
    assert.equal(st, 401)
    assert.equal(body.code, 'API_KEY_INVALID')
    ;[st, body] = await get('/w', { 'x-api-key': rawKey })
    assert.deepEqual([st, body.code], [403, 'API_KEY_INSUFFICIENT_SCOPE'])
    record.isActive = false
    ;[st, body] = await get('/r', { 'x-api-key': rawKey })
    assert.deepEqual([st, body.code], [401, 'API_KEY_REVOKED'])
  } finally {
    await new Promise((r) => server.close(r))
  }
})

test('middleware: a store that throws is 500 {error: "Internal server error"}, never next(err)', async () => {
  const store = {
    async findByPrefix() {
      throw new Error('database down')
    },
    async updateLastUsed() {},
  }
  const res = {
    code: null,
    body: null,
    status(c) {
      this.code = c
      return this
    },
    json(b) {
      this.body = b
      return this
    },
  }
  let nextArgs = null
  await new Promise((resolve) => {
    const end = res.json.bind(res)
    res.json = (b) => {
      end(b)
      resolve()
      return res
    }
    createApiKeyMiddleware(store)({ headers: { 'x-api-key': 'ak_' + '2'.repeat(48) }, ip: '127.0.0.1' }, res, (...a) => {
      nextArgs = a
      resolve()
    })
  })
  assert.equal(nextArgs, null)
  assert.deepEqual([res.code, res.body], [500, { error: 'Internal server error' }])
})

test('a malformed 60-character stored hash rejects with bcryptjs\'s Error, as node-auth\'s bcrypt compare does', async () => {
  const rawKey = 'ak_' + '3'.repeat(48)
  const bad = bcryptjs.hashSync(rawKey, 4).replace('$2b$', '$2x$')
  let theirs
  await bcryptjs.compare(rawKey, bad).catch((e) => (theirs = e))
  const store = memoryKeyStore()
  await store.save({ id: 'k', name: 'k', keyHash: bad, keyPrefix: rawKey.slice(0, 11), scopes: [], allowedIps: null, isActive: true, expiresAt: null })
  await assert.rejects(new ApiKeyStrategy(store).authenticate({ 'x-api-key': rawKey }), (e) => !(e instanceof AuthError) && e.message === theirs.message)
  await assert.rejects(new ApiKeyService().verifyKey(rawKey, bad), (e) => e.message === theirs.message)
  // Not 60 characters: bcryptjs answers false, so the key is simply invalid.
  store.rows[0].keyHash = 'not-a-hash'
  await assert.rejects(new ApiKeyStrategy(store).authenticate({ 'x-api-key': rawKey }), (e) => e instanceof AuthError && e.code === 'API_KEY_INVALID')
})
