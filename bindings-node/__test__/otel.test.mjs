// The core's metrics through the OpenTelemetry metrics API (@authcore/native/otel.js),
// collected by the OpenTelemetry SDK's in-memory exporter (@opentelemetry/sdk-metrics, a dev
// dependency): the verify counter and the latency histogram's count move by exactly what
// the verifications did; gauges and labelled histograms come through with their
// attributes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'

const require = createRequire(import.meta.url)
const { registerAuthcoreOtelMetrics } = require('../otel.js')
const core = require('@authcore/node-hmac-auth-core')

async function collect(reader, exporter) {
  await reader.forceFlush()
  const out = new Map()
  const batches = exporter.getMetrics()
  const last = batches[batches.length - 1]
  for (const sm of last?.scopeMetrics ?? []) {
    for (const m of sm.metrics) {
      for (const p of m.dataPoints) {
        const attrs = Object.entries(p.attributes).map(([k, v]) => `${k}=${v}`).join(',')
        out.set(attrs ? `${m.descriptor.name}{${attrs}}` : m.descriptor.name, p.value)
      }
    }
  }
  exporter.reset()
  return out
}

test('OpenTelemetry export counts what the verifications did', async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const provider = new MeterProvider({ readers: [reader] })
  try {
    const meter = provider.getMeter('authcore-test')
    assert.throws(() => registerAuthcoreOtelMetrics({}), /OpenTelemetry Meter/)
    const reg = registerAuthcoreOtelMetrics(meter)
    assert.equal(reg.instruments.length, 16 + 3)
    const auth = core.initializeHmacHttpAuth({ redis: 'memory://otel', namespace: 'otel' })
    await auth.clients.setSecret('otel-app', 'otel-secret')
    const before = await collect(reader, exporter)
    const body = '{"n":1}'
    const req = (headers, rawBody = body) => ({ method: 'POST', path: '/v1/orders', headers, rawBody })
    const signed = () => Object.fromEntries(core.buildHttpSignedHeaders({ method: 'POST', url: '/v1/orders', body, clientId: 'otel-app', secret: 'otel-secret' }))
    for (let i = 0; i < 3; i++) await auth.verifyHttpSignature(req(signed()))
    const once = signed()
    await auth.verifyHttpSignature(req(once))
    for (let i = 0; i < 2; i++) await assert.rejects(auth.verifyHttpSignature(req(once)), { code: 'REPLAYED_NONCE' })
    await assert.rejects(auth.verifyHttpSignature(req(signed(), '{"n":2}')), { code: 'BAD_SIGNATURE' })
    const after = await collect(reader, exporter)
    const d = (k) => (after.get(k) ?? 0) - (before.get(k) ?? 0)
    assert.deepEqual(
      ['OK', 'REPLAYED_NONCE', 'BAD_SIGNATURE', 'TIMESTAMP_SKEW'].map((o) => d(`authcore_verify{outcome=${o}}`)),
      [4, 2, 1, 0],
    )
    assert.equal(d('authcore_verify_duration_seconds_count'), 7)
    assert.ok(after.get('authcore_verify_duration_seconds_sum') > 0)
    assert.ok(after.has('authcore_sse_subscribers'))
    assert.ok(after.has('authcore_kdf_duration_seconds_count{algorithm=argon2id}'))
    for (const k of after.keys()) assert.ok(!k.includes('otel-app') && !k.includes('otel-secret'), k)

    reg.unregister()
  } finally {
    await provider.shutdown()
  }
})
