// Timing helpers of the auth-primitive Node benchmarks (the shared ones are in bench/common.mjs).
import * as shared from '../common.mjs'

export const { perCall, table, fmt } = shared

/**
 * Load @authcore/node-auth-core on the release addon named by AUTHCORE_NATIVE_ADDON (set by
 * run.sh). NAPI_RS_NATIVE_LIBRARY_PATH is set only while our loader runs: every napi-rs
 * loader honours it, so a global value would make @node-rs/* load our addon instead of theirs.
 */
export async function loadAuthcore() {
  const addon = process.env.AUTHCORE_NATIVE_ADDON
  if (addon) process.env.NAPI_RS_NATIVE_LIBRARY_PATH = addon
  try {
    return (await import('@authcore/node-auth-core')).default
  } finally {
    delete process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  }
}

/** ns per call of an async `fn` awaited one at a time (median of 5 rounds). */
export async function perCallAsync(fn, { minMs = 400 } = {}) {
  for (let i = 0; i < 1000; i++) await fn(i)
  let n = 500
  for (;;) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await fn(i)
    if (Number(process.hrtime.bigint() - t0) / 1e6 >= minMs / 5) break
    n *= 2
  }
  const rounds = []
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await fn(i)
    rounds.push(Number(process.hrtime.bigint() - t0) / n)
  }
  return rounds.sort((a, b) => a - b)[2]
}

/**
 * Median ms per implementation, interleaved: each round times one call of every
 * implementation in turn, so load changes on a shared machine hit all of them alike.
 */
export async function interleavedMedians(fns, runs) {
  const names = Object.keys(fns)
  const t = Object.fromEntries(names.map((n) => [n, []]))
  for (const n of names) await fns[n](-1) // warm-up
  for (let i = 0; i < runs; i++) {
    for (const n of names) {
      const t0 = performance.now()
      await fns[n](i)
      t[n].push(performance.now() - t0)
    }
  }
  return Object.fromEntries(names.map((n) => [n, t[n].sort((a, b) => a - b)[Math.floor(runs / 2)]]))
}

/** Wall time of `work()` and the event loop's maximum lag meanwhile (1 ms probe). */
export async function withLagProbe(work) {
  const period = 1
  let last = performance.now()
  let maxLag = 0
  const timer = setInterval(() => {
    const t = performance.now()
    maxLag = Math.max(maxLag, t - last - period)
    last = t
  }, period)
  // Let the probe start before the work.
  await new Promise((r) => setTimeout(r, 5))
  last = performance.now()
  const t0 = performance.now()
  await work()
  const wall = performance.now() - t0
  // Let the probe fire once more, so a stall at the very end (or synchronous work that
  // never yielded) is measured too.
  await new Promise((r) => setTimeout(r, period * 3))
  clearInterval(timer)
  return { wall, maxLag }
}

export function writeResults(name, data) {
  const native = process.env.AUTHCORE_NATIVE_ADDON ? 'release (bench-fast profile: opt-level 3, thin LTO)' : 'debug'
  return shared.writeResults(name, data, native)
}
