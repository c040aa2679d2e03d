'use strict'
// The core's structured log events (target `authcore`) in JavaScript. Each record is
// `{ level, message, op, outcome, client_id?, user_id?, ... }`: what ran, its outcome code
// and the client it concerned; never a secret, signature, nonce, token, password or body.
//
//   const { enableLogs } = require('@authcore/native/logs.js')
//   enableLogs({ level: 'info', logger: console })    // the originals' {info, warn, error} logger
//   require('node:diagnostics_channel').subscribe('authcore:log', (record) => ...)
//
// Records are handed over on the JS thread in batches, after the call that produced them.
const diagnosticsChannel = require('node:diagnostics_channel')
const native = require('./binding.js')

/** The diagnostics channel every record is published on. */
const channel = diagnosticsChannel.channel('authcore:log')
let currentLogger = null

function line(record) {
  let out = `[authcore] ${record.message}`
  for (const [k, v] of Object.entries(record)) {
    if (k !== 'level' && k !== 'message') out += ` ${k}=${v}`
  }
  return out
}

function deliver() {
  const batch = JSON.parse(native.drainLogs())
  for (const r of batch) {
    const record = { level: r.level, message: r.message, ...Object.fromEntries(r.fields) }
    if (channel.hasSubscribers) channel.publish(record)
    const logger = currentLogger
    if (logger) {
      const fn = r.level === 'error' ? logger.error : r.level === 'warn' ? logger.warn : (logger[r.level] ?? logger.info)
      try {
        if (typeof fn === 'function') fn.call(logger, line(record), record)
      } catch {
        // a failing host logger never breaks the core
      }
    }
  }
}

/**
 * Starts forwarding core events at `level` (`error`, `warn`, `info` (default), `debug`,
 * `trace`) to `diagnostics_channel` `authcore:log` and, when given, to `logger` (an object
 * with `info`/`warn`/`error`, like the originals' logger option; `debug` is used when
 * present). Returns false when the process already had another global `tracing`
 * subscriber. Calling it again replaces the level and the logger.
 */
function enableLogs(options = {}) {
  const level = options.level ?? 'info'
  if (options.logger !== undefined && options.logger !== null && typeof options.logger !== 'object') {
    throw new TypeError('enableLogs: logger must be an object with info/warn/error methods')
  }
  currentLogger = options.logger ?? null
  return native.startLogs(String(level), deliver)
}

/** Stops forwarding (records already queued are dropped at the next enable). */
function disableLogs() {
  native.setLogLevel('off')
  currentLogger = null
}

module.exports = { enableLogs, disableLogs, channel, CHANNEL_NAME: 'authcore:log' }
