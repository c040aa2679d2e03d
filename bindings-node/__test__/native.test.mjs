// @authcore/native: the error mapping, sync/async parity, the event loop stays free
// during store I/O and hashing, and the N-API surface rejects bad types with errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const native = createRequire(import.meta.url)('../index.js')

test('errors carry code, status, message and isHmacAuthError', async () => {
  assert.throws(() => native.normalizePath('//['), (e) => {
    assert.ok(e instanceof Error)
    assert.deepEqual([e.code, e.status, e.message, e.isHmacAuthError], ['INVALID_INPUT', 500, 'Invalid URL', false])
    return true
  })
  assert.throws(() => native.assertClientId(' '), (e) => {
    assert.deepEqual([e.code, e.status, e.message, e.isHmacAuthError], ['MISSING_CLIENT_ID', 400, 'clientId cannot be empty', true])
    return true
  })
  const auth = new native.HmacAuth('memory://native-test', { namespace: 'errs' })
  await assert.rejects(auth.clientsRegenerateSecret('ghost', null, null), (e) => {
    assert.deepEqual([e.code, e.status, e.message, e.isHmacAuthError], ['CLIENT_NOT_FOUND', 404, 'Cannot regenerate secret: client not found', true])
    return true
  })
  assert.throws(() => new native.HmacAuth('memory://', { namespace: '  ' }), { code: 'INVALID_ARGUMENT', message: 'Namespace cannot be empty' })
  assert.throws(() => new native.HmacAuth('http://x', {}), { code: 'INVALID_INPUT' })
  // A code's default status, whatever message text travels with it; the errors the
  // core raises carry their own status (MISSING_CLIENT_ID: 400 from clients.*, above).
  assert.equal(native.hmacErrorStatus('MISSING_CLIENT_ID'), 401)
  assert.equal(native.hmacErrorStatus('CLIENT_IP_NOT_ALLOWED'), 403)
  assert.equal(native.hmacErrorStatus('NOT_A_CODE'), 500)
  assert.deepEqual(native.hmacErrorCodes().length, 14)
})

test('wrong argument types are rejected, not crashes', () => {
  assert.throws(() => native.hashClientSecret(42))
  assert.throws(() => native.signRequest({ method: 'GET' }))
  assert.throws(() => native.hashBody({}))
  assert.throws(() => native.verifyWithRecord(null))
  assert.throws(() => native.messageCanonical({ json: '{"a":', marker: 'm' }))
  assert.throws(() => native.messageCanonical({ json: '['.repeat(100000) + ']'.repeat(100000) }))
})

test('async store verify and sans-IO verify agree (parity)', async () => {
  const ns = `parity_${Date.now()}`
  const auth = new native.HmacAuth('memory://native-test', { namespace: ns })
  await auth.clientsSetSecret('app_a', 'secret_a', false, null)
  const record = await auth.rawHget(`${ns}:clients`, 'app_a')
  const now = 1_700_000_000_000
  const cases = [
    { nonce: 'a', body: 'x', signBody: 'x' },
    { nonce: 'b', body: 'x', signBody: 'y' },
    { nonce: 'c', body: Buffer.from([0xff, 0x41]), signBody: '\ufffdA' },
  ]
  for (const c of cases) {
    const h = native.buildSignedHeaders({ method: 'PUT', url: '/p?q=1', body: c.signBody, clientId: 'app_a', secret: 'secret_a', nonce: c.nonce, timestamp: now })
    const input = { method: 'PUT', path: '/p?q=1', clientId: h.clientId, signature: h.signature, timestamp: h.timestamp, nonce: h.nonce, body: c.body, now }
    const sync = native.verifyWithRecord({ ...input, namespace: ns, record })
    const async_ = await auth.verify(input)
    assert.equal(async_.ok, sync.ok)
    assert.equal(async_.code, sync.code)
    assert.equal(async_.message, sync.message)
    assert.deepEqual(async_.badSignature, sync.badSignature)
  }
})

test('the event loop keeps running while the core hashes a large body', async () => {
  const ns = `loop_${Date.now()}`
  const auth = new native.HmacAuth('memory://native-test', { namespace: ns })
  await auth.clientsSetSecret('app_a', 'secret_a', false, null)
  const body = Buffer.alloc(48 * 1024 * 1024, 0x61)
  const h = native.buildSignedHeaders({ method: 'POST', url: '/big', body, clientId: 'app_a', secret: 'secret_a' })
  let ticks = 0
  const timer = setInterval(() => (ticks += 1), 1)
  const started = process.hrtime.bigint()
  const outcome = await auth.verify({ method: 'POST', path: '/big', clientId: 'app_a', signature: h.signature, timestamp: h.timestamp, nonce: h.nonce, body })
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6
  clearInterval(timer)
  assert.equal(outcome.ok, true)
  // The timer fired during the verification: the work ran off the JS thread.
  assert.ok(ticks >= Math.min(3, Math.floor(elapsedMs / 4)), `ticks ${ticks} during ${elapsedMs.toFixed(1)} ms`)
})

test('the completion queue delivers every outcome once, with its id', async () => {
  const ns = `queue_${Date.now()}`
  const auth = new native.HmacAuth('memory://native-test', { namespace: ns })
  assert.throws(() => auth.verifySubmit(1, 'GET', '/', undefined, undefined, undefined, undefined, undefined, 0, 1, undefined), { code: 'INVALID_INPUT' })
  await auth.clientsSetSecret('app_a', 'secret_a', false, null)
  const got = new Map()
  let wake
  const allDone = new Promise((r) => (wake = r))
  auth.startCompletions(() => {
    for (const o of auth.drainCompletions()) {
      assert.equal(got.has(o.id), false, `outcome ${o.id} delivered twice`)
      got.set(o.id, o)
    }
    if (got.size === 500) wake()
  })
  const now = Date.now()
  for (let id = 1; id <= 500; id++) {
    const nonce = `n${id % 250}`
    const h = native.buildSignedHeaders({ method: 'GET', url: '/q', clientId: 'app_a', secret: 'secret_a', nonce, timestamp: now })
    auth.verifySubmit(id, 'GET', '/q', 'app_a', h.signature, h.timestamp, h.nonce, undefined, now, 300000, undefined)
  }
  const keepAlive = setInterval(() => {}, 1000)
  await allDone
  clearInterval(keepAlive)
  const ok = [...got.values()].filter((o) => o.ok).length
  const replayed = [...got.values()].filter((o) => o.code === 'REPLAYED_NONCE').length
  assert.deepEqual([ok, replayed], [250, 250])
})

test('verifyRecordFast: the core orders the IP sources (ip, ips, forwardedFor, x-forwarded-for, remoteAddress)', () => {
  const now = Date.now()
  const record = JSON.stringify({ secretHash: native.hashClientSecret('secret_a'), createdAt: 1, updatedAt: 1, expiresAt: null, allowedIps: ['10.0.0.1'] })
  const verify = (sources) => {
    const h = native.buildSignedHeaders({ method: 'GET', url: '/q', clientId: 'app_a', secret: 'secret_a', nonce: 'n1', timestamp: now })
    return native.verifyRecordFast('GET', '/q', 'app_a', h.signature, h.timestamp, h.nonce, undefined, now, 300000, undefined, record, sources, false)
  }
  // Non-strings are skipped; the first source that parses is the client IP.
  assert.equal(verify([undefined, ['bogus', 5, '10.0.0.1'], '8.8.8.8', undefined, '8.8.4.4']).ok, true)
  assert.equal(verify([42, undefined, { ip: '10.0.0.1' }, '10.0.0.1, 8.8.8.8', '8.8.4.4']).ok, true)
  assert.equal(verify([undefined, undefined, undefined, undefined, '10.0.0.1']).ok, true)
  assert.equal(verify(['8.8.8.8', ['10.0.0.1'], undefined, undefined, undefined]).code, 'CLIENT_IP_NOT_ALLOWED')
  assert.equal(verify(undefined).code, 'MISSING_CLIENT_IP')
})
