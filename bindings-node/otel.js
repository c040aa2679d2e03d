'use strict'
// The core's metrics through the OpenTelemetry metrics API: one asynchronous (observable)
// instrument per core family, all read from the core by one batch callback at each
// collection, so whatever SDK, reader and exporter the application configured (OTLP,
// Prometheus, …) carries them. Nothing is imported from OpenTelemetry here: the caller
// passes its Meter (from @opentelemetry/api's `metrics.getMeter(...)`).
//
//   const { metrics } = require('@opentelemetry/api')
//   const { registerAuthcoreOtelMetrics } = require('@authcore/native/otel.js')
//   registerAuthcoreOtelMetrics(metrics.getMeter('authcore'))
//
// Counters become observable counters named without Prometheus' `_total` (OpenTelemetry's
// Prometheus exporter adds it back), gauges observable gauges, labels attributes.
// Histograms become two observable counters, `<name>_count` and `<name>_sum` (the API has
// no asynchronous histogram); their buckets are in metricsText() and the prom-client
// collector.
const { metricsSnapshot } = require('./metrics.js')

function otelName(family) {
  return family.kind === 'counter' && family.name.endsWith('_total') ? family.name.slice(0, -'_total'.length) : family.name
}

/**
 * Creates the instruments on `meter` and registers their batch callback. Returns
 * `{ instruments, unregister() }`.
 */
function registerAuthcoreOtelMetrics(meter) {
  if (
    !meter ||
    typeof meter.createObservableCounter !== 'function' ||
    typeof meter.createObservableGauge !== 'function' ||
    typeof meter.addBatchObservableCallback !== 'function'
  ) {
    throw new TypeError('registerAuthcoreOtelMetrics(meter): an OpenTelemetry Meter is required')
  }
  const entries = [] // [family name, histogram part or null, instrument]
  for (const f of metricsSnapshot()) {
    if (f.kind === 'counter') {
      entries.push([f.name, null, meter.createObservableCounter(otelName(f), { description: f.help })])
    } else if (f.kind === 'gauge') {
      entries.push([f.name, null, meter.createObservableGauge(f.name, { description: f.help })])
    } else {
      entries.push([f.name, 'count', meter.createObservableCounter(`${f.name}_count`, { description: `${f.help} (count)` })])
      entries.push([f.name, 'sum', meter.createObservableCounter(`${f.name}_sum`, { description: `${f.help} (sum)`, unit: 's' })])
    }
  }
  const instruments = entries.map((e) => e[2])
  const callback = (result) => {
    const byName = new Map(metricsSnapshot().map((f) => [f.name, f]))
    for (const [name, part, instrument] of entries) {
      const family = byName.get(name)
      if (!family) continue
      for (const s of family.samples) {
        const attributes = {}
        for (const [k, v] of s.labels) attributes[k] = v
        result.observe(instrument, part ? s.histogram[part] : s.value, attributes)
      }
    }
  }
  meter.addBatchObservableCallback(callback, instruments)
  return {
    instruments,
    unregister() {
      meter.removeBatchObservableCallback(callback, instruments)
    },
  }
}

module.exports = { registerAuthcoreOtelMetrics }
