// Timing and reporting helpers shared by every Node benchmark (bench/node, bench/node-auth).
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import os from 'node:os'

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results')

/** ns per call of a synchronous `fn` after a warm-up, over at least `minMs` (median of 5 rounds). */
export function perCall(fn, { minMs = 400 } = {}) {
  for (let i = 0; i < 3000; i++) fn(i)
  let n = 1000
  for (;;) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) fn(i)
    if (Number(process.hrtime.bigint() - t0) / 1e6 >= minMs / 5) break
    n *= 2
  }
  const rounds = []
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) fn(i)
    rounds.push(Number(process.hrtime.bigint() - t0) / n)
  }
  return rounds.sort((a, b) => a - b)[2]
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

/** The machine and build a result was measured on; `native` names the addon build. */
export function environment(native) {
  return {
    node: process.version,
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE || 4),
    native,
    loadAverage1m: +os.loadavg()[0].toFixed(2),
    date: new Date().toISOString(),
  }
}

/** Write bench/results/<name>.json with the environment first; returns the path. */
export function writeResults(name, data, native) {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const file = join(RESULTS_DIR, `${name}.json`)
  writeFileSync(file, JSON.stringify({ environment: environment(native), ...data }, null, 2) + '\n')
  return file
}

export function table(rows, columns) {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)))
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ')
  console.log(line(columns))
  console.log(line(widths.map((w) => '-'.repeat(w))))
  for (const r of rows) console.log(line(columns.map((c) => r[c])))
}

export const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x))
