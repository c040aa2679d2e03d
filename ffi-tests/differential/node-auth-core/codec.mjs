// JSON encoding of the values the node-auth-core cases pass and receive: everything JSON
// cannot say (undefined, NaN, ±Infinity, -0, Buffers, Dates, lone surrogates stay as JSON
// escapes) is a one-key tagged object, so a recorded case replays with the same values.

export function enc(v) {
  if (v === undefined) return { $undefined: true }
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { $number: 'NaN' }
    if (v === Infinity) return { $number: 'Infinity' }
    if (v === -Infinity) return { $number: '-Infinity' }
    if (Object.is(v, -0)) return { $number: '-0' }
    return v
  }
  if (typeof v === 'bigint') return { $bigint: String(v) }
  if (typeof v === 'function') return { $function: true }
  if (Buffer.isBuffer(v)) return { $buffer: v.toString('hex') }
  if (v instanceof Date) return { $date: Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString() }
  if (Array.isArray(v)) return v.map(enc)
  if (v !== null && typeof v === 'object') {
    const o = {}
    for (const k of Object.keys(v)) o[k] = enc(v[k])
    return o
  }
  return v
}

export function dec(v) {
  if (Array.isArray(v)) return v.map(dec)
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v)
    if (keys.length === 1) {
      const [k] = keys
      if (k === '$undefined') return undefined
      if (k === '$number') return Number(v.$number)
      if (k === '$bigint') return BigInt(v.$bigint)
      if (k === '$buffer') return Buffer.from(v.$buffer, 'hex')
      if (k === '$date') return new Date(v.$date === 'Invalid Date' ? NaN : v.$date)
    }
    const o = {}
    for (const k of keys) o[k] = dec(v[k])
    return o
  }
  return v
}

/** Seeded PRNG (mulberry32): the same seed always generates the same cases. */
export function rng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    bool: (p = 0.5) => next() < p,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
    str: (alphabet, lo, hi) => {
      const n = r.int(lo, hi)
      let s = ''
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)]
      return s
    },
  }
  return r
}
