// The one replay loop of the recorded differential vectors (ffi-tests/vectors/differential/):
// every case must give the original's answer, or, for a case marked `kept` (a deliberate
// difference documented in docs/compat.md), exactly the answer recorded for us. Each Node
// test file names its suite, its binding and what the vectors must cover.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'

/** Reads `ffi-tests/vectors/differential/<suite>.json`. */
export function loadVectors(suite) {
  return JSON.parse(fs.readFileSync(new URL(`../vectors/differential/${suite}.json`, import.meta.url), 'utf8'))
}

/**
 * Registers the tests of one suite: a coverage test (several seeds, every name in `ops` seen
 * by `opsOf(case)`, every kept case pointing at docs/compat.md), then one test per capability
 * that runs `execute(ours, case)` on each recorded case.
 */
export function replaySuite({ doc, ours, execute, original, ops, opsOf = (c) => [c.op] }) {
  test(`${original}: the differential vectors cover several seeds and every op`, () => {
    assert.ok(doc.seeds.length >= 3, `seeds ${doc.seeds}`)
    const seen = new Set(doc.cases.flatMap(opsOf))
    for (const op of ops) assert.ok(seen.has(op), `no recorded case for ${op}`)
    for (const c of doc.cases.filter((c) => c.kept)) assert.match(c.kept.ref, /^docs\/compat\.md: /, c.id)
  })

  const byCapability = new Map()
  for (const c of doc.cases) {
    if (!byCapability.has(c.capability)) byCapability.set(c.capability, [])
    byCapability.get(c.capability).push(c)
  }
  for (const [capability, cases] of byCapability) {
    test(`${capability}: ${cases.length} recorded cases answer as ${original} (or as kept)`, async () => {
      const failures = []
      for (const c of cases) {
        const got = await execute(ours, c)
        const want = c.kept ? c.kept.ours : c.expect
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          failures.push(
            `${c.id}${c.kept ? ' (kept)' : ''}\n  want ${JSON.stringify(want).slice(0, 600)}\n  got  ${JSON.stringify(got).slice(0, 600)}`,
          )
        }
      }
      assert.equal(failures.length, 0, failures.join('\n'))
    })
  }
}
