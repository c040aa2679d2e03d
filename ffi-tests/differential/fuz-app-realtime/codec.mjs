// A seeded PRNG and the JSON tags of values JSON cannot say (undefined, -0, NaN, ±Infinity,
// Dates, a non-function placeholder), shared by the realtime and naskot suites.

/** mulberry32: deterministic from the printed seed. */
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
    chance: (p) => next() < p,
    str: (alphabet, lo, hi) => {
      const chars = [...alphabet]
      let s = ''
      for (let i = r.int(lo, hi); i > 0; i--) s += r.pick(chars)
      return s
    },
  }
  return r
}

export function enc(v) {
  if (v === undefined) return { $undefined: true }
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { $number: 'NaN' }
    if (v === Infinity) return { $number: 'Infinity' }
    if (v === -Infinity) return { $number: '-Infinity' }
    if (Object.is(v, -0)) return { $number: '-0' }
    return v
  }
  if (v instanceof Date) return { $date: v.toISOString() }
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
      if (k === '$date') return new Date(v.$date)
    }
    const o = {}
    for (const k of keys) o[k] = dec(v[k])
    return o
  }
  return v
}

/** An error as compared: class, message, code. */
export function errorOf(e) {
  if (e instanceof Error) {
    const out = { class: e.constructor?.name ?? 'Error', message: e.message }
    if (e.code !== undefined) out.code = e.code
    if (e.status !== undefined) out.status = e.status
    return out
  }
  return { thrown: String(e) }
}
