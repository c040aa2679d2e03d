// Replays the recorded differential vectors of @authcore/node-auth-core
// (ffi-tests/vectors/differential/node-auth-core.json, written by
// `ffi-tests/differential/run.mjs --suite node-auth-core --record` from what awesome-node-auth
// 1.9.0 answered): every case must give the original's outcome (value or error class, code,
// status and message, cookies, store calls, responses), or, for a case marked `kept`
// (a deliberate difference documented in docs/compat.md), exactly the answer recorded for us.
// No original is needed here.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { execute, OP_NAMES } from '../differential/node-auth-core/execute.mjs'

const require = createRequire(import.meta.url)
const ours = require('@authcore/node-auth-core')
const doc = JSON.parse(fs.readFileSync(new URL('../vectors/differential/node-auth-core.json', import.meta.url), 'utf8'))

test('the differential vectors cover every op and several seeds', () => {
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
  test(`${capability}: ${cases.length} recorded cases answer as awesome-node-auth (or as kept)`, async () => {
    const failures = []
    for (const c of cases) {
      const got = await execute(ours, c)
      const want = c.kept ? c.kept.ours : c.expect
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        failures.push(`${c.id}${c.kept ? ' (kept)' : ''}\n  want ${JSON.stringify(want).slice(0, 500)}\n  got  ${JSON.stringify(got).slice(0, 500)}`)
      }
    }
    assert.equal(failures.length, 0, failures.join('\n'))
  })
}
