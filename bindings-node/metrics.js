'use strict'
// The core's metrics for Prometheus (authcore::metrics): counters and histograms kept in
// the Rust core with atomics, covering every package of this process (HMAC verification
// outcomes and latency, propagation, SSE, key derivation, refresh tokens). No secret,
// client id or request data is ever a label or a value.
//
//   const client = require('prom-client')
//   const { registerAuthcoreMetrics } = require('@authcore/native/metrics.js')
//   registerAuthcoreMetrics(client.register)        // the core's families join the app's
//   app.get('/metrics', async (_req, res) => res.type(client.register.contentType).send(await client.register.metrics()))
//
// or, without prom-client: `metricsText()` is the Prometheus text itself.
const native = require('./binding.js')

/** Prometheus text exposition (format 0.0.4) of every core metric of this process. */
function metricsText() {
  return native.metricsText()
}

/**
 * Every family: `{ name, help, kind, samples: [{ labels: [[k, v]], value, histogram?:
 * { buckets: [[le, cumulative]], count, sum } }] }` (the `+Inf` bucket is `count`).
 */
function metricsSnapshot() {
  return JSON.parse(native.metricsSnapshot())
}

/** Turn hot-path recording on (the default) or off for the whole process. */
function metricsSetEnabled(enabled) {
  native.metricsSetEnabled(!!enabled)
}

function labelsOf(pairs, extra) {
  const out = {}
  for (const [k, v] of pairs) out[k] = v
  return extra ? Object.assign(out, extra) : out
}

/** prom-client's `MetricObject` of one family (what `metric.get()` returns). */
function metricObject(family) {
  const values = []
  for (const s of family.samples) {
    if (family.kind !== 'histogram') {
      values.push({ labels: labelsOf(s.labels), value: s.value })
      continue
    }
    const h = s.histogram
    for (const [le, n] of h.buckets) {
      values.push({ labels: labelsOf(s.labels, { le }), value: n, metricName: `${family.name}_bucket` })
    }
    values.push({ labels: labelsOf(s.labels, { le: '+Inf' }), value: h.count, metricName: `${family.name}_bucket` })
    values.push({ labels: labelsOf(s.labels), value: h.sum, metricName: `${family.name}_sum` })
    values.push({ labels: labelsOf(s.labels), value: h.count, metricName: `${family.name}_count` })
  }
  return { name: family.name, help: family.help, type: family.kind, values, aggregator: 'sum' }
}

/**
 * One prom-client metric per core family, read from the core at each scrape. prom-client
 * only needs `name`, `help`, `type`, `get()` and `reset()` from a registered metric.
 */
class AuthcoreMetric {
  constructor(family) {
    this.name = family.name
    this.help = family.help
    this.type = family.kind
    this.aggregator = 'sum'
  }

  async get() {
    const family = metricsSnapshot().find((f) => f.name === this.name)
    return metricObject(family ?? { name: this.name, help: this.help, kind: this.type, samples: [] })
  }

  /** Core counters are process-wide and never reset from JavaScript. */
  reset() {}
}

/**
 * Registers every core family with a prom-client `Registry` (e.g. `client.register`) and
 * returns the registered metric objects. Registering twice with the same registry throws,
 * as prom-client does for any duplicate name.
 */
function registerAuthcoreMetrics(registry) {
  if (!registry || typeof registry.registerMetric !== 'function') {
    throw new TypeError('registerAuthcoreMetrics(registry): a prom-client Registry is required')
  }
  return metricsSnapshot().map((family) => {
    const metric = new AuthcoreMetric(family)
    registry.registerMetric(metric)
    return metric
  })
}

module.exports = {
  metricsText,
  metricsSnapshot,
  metricsSetEnabled,
  // Deprecated name of metricsSetEnabled (the core's metrics::set_enabled): the same function.
  setMetricsEnabled: metricsSetEnabled,
  registerAuthcoreMetrics,
  AuthcoreMetric,
}
