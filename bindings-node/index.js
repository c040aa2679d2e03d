'use strict'
// @authcore/native: the generated napi-rs loader (binding.js) plus the one piece that
// must run in JavaScript: reducing a JS value to the text the core canonicalises.
const native = require('./binding.js')

// A key no real object carries: `{ [MARKER]: value }` tells the core that `value` is a
// non-plain object (class instance, Map, Set, boxed primitive, a toJSON result) whose
// keys must keep their insertion order, like the original's sortObjectKeysDeep leaves them.
const MARKER = '\u0000authcore:unsorted:' + native.generateNonce()

function isPlainObject(v) {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/**
 * JSON text of `value` as `JSON.stringify(sortObjectKeysDeep(value))` would see it,
 * before sorting: Dates in sortable positions become `toISOString()` (a RangeError for an
 * invalid Date, like the original), non-plain objects are wrapped with MARKER. Throws
 * what JSON.stringify throws (a TypeError for a BigInt, for a cycle).
 */
function jsonForMessage(value) {
  const unsorted = new WeakSet()
  const wrappers = new WeakSet()
  return JSON.stringify(value, function replacer(key, v) {
    if (wrappers.has(this)) return v
    if (unsorted.has(this)) {
      if (v !== null && typeof v === 'object') unsorted.add(v)
      return v
    }
    const orig = this[key]
    if (orig instanceof Date) return orig.toISOString()
    if (v === null || typeof v !== 'object') return v
    if (v === orig && Array.isArray(v)) return v
    if (v === orig && isPlainObject(v) && typeof v.toJSON !== 'function') return v
    unsorted.add(v)
    const w = { [MARKER]: v }
    wrappers.add(w)
    return w
  })
}

/**
 * `toMessageString(message)` reduced to what the core takes (`MessageText`):
 * `{ raw }` for values whose text is final, `{ json, marker }` for objects and arrays.
 */
function toMessageText(message) {
  if (message === null || message === undefined) return { raw: '' }
  switch (typeof message) {
    case 'string':
      return { raw: message }
    case 'number':
    case 'boolean':
    case 'bigint':
      return { raw: `${message}` }
    case 'symbol':
    case 'function':
      return { raw: message.toString() }
    default:
      break
  }
  if (Buffer.isBuffer(message)) return { raw: message.toString('utf8') }
  if (message instanceof Uint8Array) return { raw: Buffer.from(message).toString('utf8') }
  if (message instanceof URLSearchParams) return { raw: message.toString() }
  if (message instanceof Date) return { raw: JSON.stringify(message.toISOString()) }
  const json = jsonForMessage(message)
  if (json === undefined) {
    const err = new TypeError('The message serialises to undefined (toJSON returned undefined)')
    err.code = 'ERR_INVALID_ARG_TYPE'
    throw err
  }
  const c = json.charCodeAt(0)
  if (c !== 0x7b /* { */ && c !== 0x5b /* [ */) return { raw: json }
  return { json, marker: MARKER }
}

/** `toMessageString(message)`: the exact text the message hash is computed over. */
function toMessageString(message) {
  return native.messageCanonical(toMessageText(message))
}

module.exports = {
  ...native,
  toMessageText,
  toMessageString,
  MESSAGE_MARKER: MARKER,
  // Deprecated names, kept working: the same objects as the core's names.
  JwtKeySet: native.KeySet,
  argon2Hash: native.passwordHashArgon2id,
  argon2HashSync: native.passwordHashArgon2idSync,
  argon2Verify: native.passwordVerifyArgon2,
  argon2VerifySync: native.passwordVerifyArgon2Sync,
  setMetricsEnabled: native.metricsSetEnabled,
}
