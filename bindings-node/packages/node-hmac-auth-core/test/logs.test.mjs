// The core's structured log events reach JavaScript: diagnostics_channel 'authcore:log'
// and a logger of the originals' {info, warn, error} shape, with op/outcome/client_id,
// and never a secret, signature, nonce or body.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import { enableLogs, disableLogs } from '@authcore/native/logs.js'
import * as core from '@authcore/node-hmac-auth-core'

const SECRET = 's3cret-never-logged'

async function until(pred, what) {
  const deadline = Date.now() + 5000
  while (!pred()) {
    assert.ok(Date.now() < deadline, `no log record for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

test('verify events: channel + logger, fields, no secret', async () => {
  const published = []
  const onRecord = (r) => published.push(r)
  diagnosticsChannel.subscribe('authcore:log', onRecord)
  const lines = { info: [], warn: [], error: [], debug: [] }
  const logger = {
    info: (m) => lines.info.push(m),
    warn: (m) => lines.warn.push(m),
    error: (m) => lines.error.push(m),
    debug: (m) => lines.debug.push(m),
  }
  assert.equal(enableLogs({ level: 'debug', logger }), true)
  try {
    const auth = core.initializeHmacHttpAuth({ redis: 'memory://', namespace: `logs${process.pid}` })
    await auth.clients.setSecret('log_client', SECRET)
    const headers = core.buildHttpSignedHeaders({ method: 'POST', url: '/x', body: 'body', clientId: 'log_client', secret: SECRET })
    const h = Object.fromEntries(headers)
    await auth.verifyHttpSignature({ method: 'POST', path: '/x', headers: h, rawBody: 'body' })
    await assert.rejects(auth.verifyHttpSignature({ method: 'POST', path: '/x', headers: h, rawBody: 'body' }), { code: 'REPLAYED_NONCE' })
    await until(() => published.some((r) => r.outcome === 'REPLAYED_NONCE'), 'replay')
    const ok = published.find((r) => r.outcome === 'OK')
    assert.deepEqual(ok, { level: 'debug', message: 'request verified', op: 'hmac.verify', client_id: 'log_client', outcome: 'OK' })
    const replay = published.find((r) => r.outcome === 'REPLAYED_NONCE')
    assert.equal(replay.level, 'info')
    assert.ok(lines.info.some((l) => l === '[authcore] request rejected op=hmac.verify client_id=log_client outcome=REPLAYED_NONCE'), lines.info.join('\n'))
    assert.ok(lines.debug.some((l) => l.includes('outcome=OK')))
    const all = JSON.stringify(published) + JSON.stringify(lines)
    for (const needle of [SECRET, core.hashClientSecret(SECRET), h['x-signature'], h['x-nonce'], 'body"']) {
      assert.ok(!all.includes(needle), needle)
    }
    // Off: nothing more arrives.
    disableLogs()
    const n = published.length
    await assert.rejects(auth.verifyHttpSignature({ method: 'POST', path: '/x', headers: {}, rawBody: '' }), { code: 'MISSING_CLIENT_ID' })
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(published.length, n)
  } finally {
    disableLogs()
    diagnosticsChannel.unsubscribe('authcore:log', onRecord)
  }
})

test('enableLogs rejects an unknown level and a non-object logger', () => {
  assert.throws(() => enableLogs({ level: 'loud' }), /unknown log level/)
  assert.throws(() => enableLogs({ logger: 'console' }), /logger must be an object/)
})
