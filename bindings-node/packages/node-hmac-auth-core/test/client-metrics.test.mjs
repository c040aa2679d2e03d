// Verification through the application's own Redis client (a real node-redis v4 client on
// 127.0.0.1:6379, and an ioredis-style one) is counted in the core's metrics like the
// native verifier's: requests sent over real HTTP to a Fastify server using the plugin,
// the metrics served through prom-client, scraped over HTTP and parsed with a Prometheus
// text parser. The verify counters and the latency histogram move by exactly what the
// requests did; a client whose commands fail counts STORE_ERROR.
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import promClient from 'prom-client'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { registerAuthcoreMetrics, metricsSetEnabled } from '@authcore/native/metrics.js'
import * as core from '@authcore/node-hmac-auth-core'
import hmacFastify from '@authcore/node-hmac-auth-core/fastify'
import { LowercaseFakeRedis, cleanupNamespace, closeRedis, redisClient, uniqueNamespace } from './helpers.mjs'

const BODY = JSON.stringify({ order: 7 })

function signed(method, url, body, nonce) {
  const headers = core.buildHttpSignedHeaders({ method, url, body: body ?? '', clientId: 'app_m', secret: 'secret_m', nonce })
  headers.set('content-type', 'application/json')
  return headers
}

async function serve(auth) {
  const registry = new promClient.Registry()
  registerAuthcoreMetrics(registry)
  const app = Fastify()
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()))
  await app.register(async (scope) => {
    await scope.register(hmacFastify, { auth })
    scope.post('/secure/m', async (req) => ({ caller: req.hmacAuth.clientId }))
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  after(() => app.close())
  return `http://127.0.0.1:${app.server.address().port}`
}

async function scrape(base) {
  const r = await fetch(`${base}/metrics`)
  assert.equal(r.status, 200)
  const out = new Map()
  for (const fam of parsePrometheusTextFormat(await r.text())) {
    for (const m of fam.metrics) {
      if (fam.type === 'HISTOGRAM') {
        out.set(`${fam.name}_count`, Number(m.count))
      } else {
        const labels = Object.entries(m.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')
        out.set(labels ? `${fam.name}{${labels}}` : fam.name, Number(m.value))
      }
    }
  }
  return out
}

const OUTCOMES = ['OK', 'REPLAYED_NONCE', 'BAD_SIGNATURE', 'MISSING_CLIENT_ID', 'UNKNOWN_CLIENT', 'TIMESTAMP_SKEW', 'STORE_ERROR']

function deltas(before, afterScrape) {
  const d = {}
  for (const o of OUTCOMES) {
    const k = `authcore_verify_total{outcome=${o}}`
    d[o] = afterScrape.get(k) - before.get(k)
  }
  d.duration = afterScrape.get('authcore_verify_duration_seconds_count') - before.get('authcore_verify_duration_seconds_count')
  return d
}

/** Accepted ×3, replayed ×1, tampered ×2, unsigned ×1, unknown client ×1, stale ×1 (+ one recording-off request). */
async function drive(base) {
  const url = `${base}/secure/m`
  const post = (headers, body = BODY) => fetch(url, { method: 'POST', headers, body }).then((r) => r.status)
  for (let i = 0; i < 2; i++) assert.equal(await post(signed('POST', url, BODY)), 200)
  const once = signed('POST', url, BODY)
  assert.equal(await post(once), 200)
  assert.equal(await post(once), 401)
  for (let i = 0; i < 2; i++) assert.equal(await post(signed('POST', url, BODY), '{"order":8}'), 401)
  assert.equal(await post({ 'content-type': 'application/json' }), 401)
  const stranger = core.buildHttpSignedHeaders({ method: 'POST', url, body: BODY, clientId: 'nobody', secret: 'x' })
  stranger.set('content-type', 'application/json')
  assert.equal(await post(stranger), 401)
  const stale = core.buildHttpSignedHeaders({ method: 'POST', url, body: BODY, clientId: 'app_m', secret: 'secret_m', timestamp: Date.now() - 3_600_000 })
  stale.set('content-type', 'application/json')
  assert.equal(await post(stale), 401)
  // Recording off: accepted, and not counted.
  metricsSetEnabled(false)
  try {
    assert.equal(await post(signed('POST', url, BODY)), 200)
  } finally {
    metricsSetEnabled(true)
  }
}

const EXPECTED = { OK: 3, REPLAYED_NONCE: 1, BAD_SIGNATURE: 2, MISSING_CLIENT_ID: 1, UNKNOWN_CLIENT: 1, TIMESTAMP_SKEW: 1, STORE_ERROR: 0, duration: 9 }

describe('verification through a RedisLikeClient is counted', () => {
  after(closeRedis)

  test('real node-redis client (Redis on 127.0.0.1:6379)', async () => {
    const namespace = uniqueNamespace('clientmetrics')
    after(() => cleanupNamespace(namespace))
    const redis = await redisClient()
    const auth = core.initializeHmacHttpAuth({ redis, namespace })
    await auth.clients.setSecret('app_m', 'secret_m')
    const base = await serve(auth)
    const before = await scrape(base)
    await drive(base)
    assert.deepEqual(deltas(before, await scrape(base)), EXPECTED)
  })

  test('ioredis-style client', async () => {
    const auth = core.initializeHmacHttpAuth({ redis: new LowercaseFakeRedis(), namespace: 'clientmetrics-fake' })
    await auth.clients.setSecret('app_m', 'secret_m')
    const base = await serve(auth)
    const before = await scrape(base)
    await drive(base)
    assert.deepEqual(deltas(before, await scrape(base)), EXPECTED)
  })

  test('a failing client counts STORE_ERROR (verifyHttpSignature directly)', async () => {
    const broken = new LowercaseFakeRedis()
    broken.hget = async () => {
      throw new Error('connection lost')
    }
    const failingSet = new LowercaseFakeRedis()
    failingSet.set = async () => {
      throw new Error('READONLY')
    }
    const registry = new promClient.Registry()
    registerAuthcoreMetrics(registry)
    const read = async () => new Map(parsePrometheusTextFormat(await registry.metrics()).flatMap((f) => f.metrics.map((m) => [`${f.name}{${m.labels?.outcome ?? ''}}`, Number(m.value ?? m.count)])))
    const before = await read()
    const url = 'http://x/secure/m'
    const headers = Object.fromEntries(signed('POST', url, BODY))
    await assert.rejects(core.verifyHttpSignature({ redis: broken, method: 'POST', path: '/secure/m', headers, rawBody: BODY }), /connection lost/)
    const setup = core.initializeHmacHttpAuth({ redis: failingSet, namespace: 'hmacauth' })
    await setup.clients.setSecret('app_m', 'secret_m')
    await assert.rejects(core.verifyHttpSignature({ redis: failingSet, method: 'POST', path: '/secure/m', headers, rawBody: BODY }), /READONLY/)
    const now = await read()
    assert.equal(now.get('authcore_verify_total{STORE_ERROR}') - before.get('authcore_verify_total{STORE_ERROR}'), 2)
    assert.equal(now.get('authcore_verify_total{OK}') - before.get('authcore_verify_total{OK}'), 0)
    assert.equal(now.get('authcore_verify_duration_seconds{}') - before.get('authcore_verify_duration_seconds{}'), 2)
  })
})
