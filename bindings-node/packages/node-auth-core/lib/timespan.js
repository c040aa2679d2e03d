'use strict'
// jsonwebtoken's `expiresIn`: a number of seconds, or a string in the `ms` package's
// syntax ("15m", "7d", "2 days", "1.5h"; a bare numeric string is milliseconds), added
// to the issue timestamp and floored.

const UNITS = {
  years: 31557600000, year: 31557600000, yrs: 31557600000, yr: 31557600000, y: 31557600000,
  weeks: 604800000, week: 604800000, w: 604800000,
  days: 86400000, day: 86400000, d: 86400000,
  hours: 3600000, hour: 3600000, hrs: 3600000, hr: 3600000, h: 3600000,
  minutes: 60000, minute: 60000, mins: 60000, min: 60000, m: 60000,
  seconds: 1000, second: 1000, secs: 1000, sec: 1000, s: 1000,
  milliseconds: 1, millisecond: 1, msecs: 1, msec: 1, ms: 1,
}
const RE = /^(-?(?:\d+)?\.?\d+) *([a-z]+)?$/i

/** Milliseconds of an `ms`-style string, or undefined when it does not parse. */
function parseMs(str) {
  if (typeof str !== 'string' || str.length === 0 || str.length > 100) return undefined
  const m = RE.exec(str)
  if (!m) return undefined
  const n = parseFloat(m[1])
  const unit = (m[2] || 'ms').toLowerCase()
  const f = UNITS[unit]
  return f === undefined ? undefined : n * f
}

/** Expiry (unix seconds) of `time` after `timestamp`, like jsonwebtoken's `timespan`. */
function timespan(time, timestamp) {
  if (typeof time === 'string') {
    const ms = parseMs(time)
    if (ms === undefined) return undefined
    return Math.floor(timestamp + ms / 1000)
  }
  if (typeof time === 'number') return timestamp + time
  return undefined
}

function expiryOf(expiresIn, timestamp) {
  const exp = timespan(expiresIn, timestamp)
  if (exp === undefined || !Number.isFinite(exp)) {
    throw new Error('"expiresIn" should be a number of seconds or string representing a timespan eg: "1d", "20h", 60')
  }
  return exp
}

module.exports = { parseMs, timespan, expiryOf }
