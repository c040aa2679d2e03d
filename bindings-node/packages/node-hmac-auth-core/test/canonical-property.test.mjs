// Property test: our message canonicalisation equals a reference implementation of the
// original's `JSON.stringify(sortObjectKeysDeep(x))` (written here from spec §2.3, keys
// compared with `localeCompare` under en-US) over thousands of random values.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { createHash } from 'node:crypto'
import * as core from '../lib/index.js'

const native = createRequire(import.meta.url)('@authcore/native')

function isPlainObject(v) {
  const p = Object.getPrototypeOf(v)
  return p === Object.prototype || p === null
}

/** The original's sortObjectKeysDeep, with localeCompare pinned to en-US. */
function sortObjectKeysDeep(value) {
  if (Array.isArray(value)) return value.map(sortObjectKeysDeep)
  if (value instanceof Date) return value.toISOString()
  if (value === null || typeof value !== 'object' || !isPlainObject(value)) return value
  const sorted = {}
  for (const key of Object.keys(value).sort((a, b) => a.localeCompare(b, 'en-US'))) {
    sorted[key] = sortObjectKeysDeep(value[key])
  }
  return sorted
}

function reference(message) {
  if (message === null || message === undefined) return ''
  if (typeof message === 'string') return message
  if (typeof message === 'number' || typeof message === 'boolean' || typeof message === 'bigint') return `${message}`
  return JSON.stringify(sortObjectKeysDeep(message))
}

// A seeded PRNG so a failure is reproducible (the seed is printed on failure).
function mulberry32(seed) {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const KEY_ATOMS = [
  'a', 'A', 'b', 'B', 'z', 'Z', 'é', 'É', 'e', 'ê', 'ä', 'å', 'ö', 'ø', 'æ', 'ß', 'ss', 'i', 'I', 'ı', 'İ',
  '0', '1', '2', '9', '10', '01', '-1', '4294967294', '4294967295', '_', '-', '.', '~', '!', '$', '@', ' ',
  'x1', 'x10', 'x2', 'ab', 'aB', 'Ab', '日本', '中', '한', 'ж', 'Ж', 'α', 'Ω', '🔐', '😀', '\u0301', 'e\u0301',
  '\t', '\n', '\u0000', '\u200b', '"', '\\', '/', '__proto__', 'constructor', 'toString', '',
]

class Box {
  constructor(v) {
    this.z = v
    this.a = { y: 1, b: 2 }
  }
}

function randomValue(rnd, depth) {
  const r = rnd()
  if (depth > 3 || r < 0.35) {
    const p = rnd()
    if (p < 0.15) return null
    if (p < 0.25) return rnd() < 0.5
    if (p < 0.45) return Math.floor(rnd() * 2000) - 1000
    if (p < 0.55) return [0.1, -0, 1e21, 1e-7, 123.456, NaN, Infinity, 2 ** 53][Math.floor(rnd() * 8)]
    if (p < 0.6) return undefined
    if (p < 0.62) return new Date(Math.floor(rnd() * 4e12))
    if (p < 0.64) return new Map([[1, 2]])
    if (p < 0.66) return new Box(randomKey(rnd))
    return randomKey(rnd) + (rnd() < 0.1 ? '\ud800' : '')
  }
  if (r < 0.55) {
    const n = Math.floor(rnd() * 5)
    return Array.from({ length: n }, () => randomValue(rnd, depth + 1))
  }
  const obj = rnd() < 0.05 ? Object.create(null) : {}
  const n = Math.floor(rnd() * 7)
  for (let i = 0; i < n; i++) {
    const key = randomKey(rnd)
    if (key === '__proto__') {
      Object.defineProperty(obj, key, { value: randomValue(rnd, depth + 1), enumerable: true, writable: true, configurable: true })
    } else {
      obj[key] = randomValue(rnd, depth + 1)
    }
  }
  return obj
}

function randomKey(rnd) {
  const parts = 1 + Math.floor(rnd() * 3)
  let k = ''
  for (let i = 0; i < parts; i++) k += KEY_ATOMS[Math.floor(rnd() * KEY_ATOMS.length)]
  return k
}

test('toMessageString equals JSON.stringify(sortObjectKeysDeep(x)) under en-US over 5,000 random values', () => {
  const seed = Number(process.env.CANONICAL_SEED ?? 20260523)
  const rnd = mulberry32(seed)
  let objects = 0
  for (let i = 0; i < 5000; i++) {
    const value = rnd() < 0.9 ? randomValue(rnd, 0) : [randomValue(rnd, 1)]
    // Compared as the UTF-8 bytes the message hash is computed over (a lone surrogate in
    // a top-level string is U+FFFD either way; inside JSON it is escaped as \udXXX).
    const expected = Buffer.from(reference(value), 'utf8').toString('utf8')
    const actual = native.toMessageString(value)
    if (actual !== expected) {
      assert.fail(`seed ${seed}, case ${i}:\n  value:    ${JSON.stringify(value)}\n  expected: ${JSON.stringify(expected)}\n  actual:   ${JSON.stringify(actual)}`)
    }
    if (value && typeof value === 'object') objects += 1
  }
  assert.ok(objects > 3000, `only ${objects} object cases`)
})

test('signMessage hashes exactly the canonical string', () => {
  const rnd = mulberry32(7)
  for (let i = 0; i < 500; i++) {
    const value = randomValue(rnd, 0)
    const s = core.signMessage({ clientId: 'c', secret: 's', message: value })
    assert.equal(s.messageHash, createHash('sha256').update(reference(value)).digest('hex'))
  }
})
