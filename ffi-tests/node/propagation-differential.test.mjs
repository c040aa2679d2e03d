// Replays the recorded differential vectors of @authcore/node-hmac-auth-core-propagation
// (ffi-tests/vectors/differential/propagation.json, written by
// `ffi-tests/differential/run.mjs --suite propagation --record` from what
// @naskot/node-hmac-auth-core-propagation 1.0.0 answered (wire names, errors, option checks)): every call must give the original's value or
// error (class, message, code), or, for a case marked `kept` (docs/compat.md), exactly the
// answer recorded for us.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { execute, OP_NAMES } from '../differential/propagation/execute.mjs'
import { loadOurs } from '../differential/propagation/suite.mjs'

const doc = JSON.parse(fs.readFileSync(new URL('../vectors/differential/propagation.json', import.meta.url), 'utf8'))
const ours = await loadOurs()

test('the propagation differential vectors cover several seeds and every op', () => {
  assert.ok(doc.seeds.length >= 3, `seeds ${doc.seeds}`)
  const ops = new Set(doc.cases.map((c) => c.op))
  for (const op of OP_NAMES) assert.ok(ops.has(op), `no recorded case for ${op}`)
  for (const c of doc.cases.filter((c) => c.kept)) assert.match(c.kept.ref, /^docs\/compat\.md: /, c.id)
})

const byCapability = new Map()
for (const c of doc.cases) {
  if (!byCapability.has(c.capability)) byCapability.set(c.capability, [])
  byCapability.get(c.capability).push(c)
}
for (const [capability, cases] of byCapability) {
  test(`${capability}: ${cases.length} recorded calls answer as @naskot/node-hmac-auth-core-propagation (or as kept)`, async () => {
    const failures = []
    for (const c of cases) {
      const got = await execute(ours, c)
      const want = c.kept ? c.kept.ours : c.expect
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        failures.push(`${c.id}${c.kept ? ' (kept)' : ''}\n  want ${JSON.stringify(want).slice(0, 600)}\n  got  ${JSON.stringify(got).slice(0, 600)}`)
      }
    }
    assert.equal(failures.length, 0, failures.join('\n'))
  })
}
