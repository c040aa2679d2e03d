// Replays the recorded differential vectors of @authcore/node-hmac-auth-core
// (ffi-tests/vectors/differential/node-hmac-auth-core.json, written by
// `ffi-tests/differential/run.mjs --suite node-hmac-auth-core --record` from what
// @naskot/node-hmac-auth-core 1.0.0 answered): every call must give the original's value or
// error (class, message, code), or, for a case marked `kept` (docs/compat.md), exactly the
// answer recorded for us.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { execute, OP_NAMES } from '../differential/node-hmac-auth-core/execute.mjs'
import { loadOurs } from '../differential/node-hmac-auth-core/suite.mjs'

const doc = JSON.parse(fs.readFileSync(new URL('../vectors/differential/node-hmac-auth-core.json', import.meta.url), 'utf8'))
const ours = await loadOurs()

test('the hmac differential vectors cover several seeds and every op', () => {
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
  test(`${capability}: ${cases.length} recorded calls answer as @naskot/node-hmac-auth-core (or as kept)`, async () => {
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
