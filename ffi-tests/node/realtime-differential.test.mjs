// Replays the recorded differential vectors of @authcore/fuz-app-realtime
// (ffi-tests/vectors/differential/fuz-app-realtime.json, written by
// `ffi-tests/differential/run.mjs --suite fuz-app-realtime --record` from what fuz_app 79281eb
// answered): every scenario must give the original's trace (step values and errors, what each
// stream received, the ready-made stream's headers and body bytes, on_close calls, log lines),
// or, for a case marked `kept` (docs/compat.md), exactly the answer recorded for us.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { execute } from '../differential/fuz-app-realtime/execute.mjs'
import { loadOurs } from '../differential/fuz-app-realtime/suite.mjs'

const doc = JSON.parse(fs.readFileSync(new URL('../vectors/differential/fuz-app-realtime.json', import.meta.url), 'utf8'))
const ours = await loadOurs()

test('the realtime differential vectors cover several seeds and every step kind', () => {
  assert.ok(doc.seeds.length >= 3, `seeds ${doc.seeds}`)
  const ops = new Set(doc.cases.flatMap((c) => c.input.steps.map((s) => s.op)))
  for (const op of ['registry', 'audit_sse', 'stream', 'subscribe', 'unsubscribe', 'broadcast', 'close_by_identity', 'count', 'make_guard', 'guard_event', 'audit_event', 'hash', 'stream_send', 'stream_comment', 'stream_close', 'stream_on_close', 'stream_on_close_adder', 'stream_on_close_nonfunction']) {
    assert.ok(ops.has(op), `no recorded step ${op}`)
  }
  for (const c of doc.cases.filter((c) => c.kept)) assert.match(c.kept.ref, /^docs\/compat\.md: /, c.id)
})

const byCapability = new Map()
for (const c of doc.cases) {
  if (!byCapability.has(c.capability)) byCapability.set(c.capability, [])
  byCapability.get(c.capability).push(c)
}
for (const [capability, cases] of byCapability) {
  test(`${capability}: ${cases.length} recorded scenarios answer as fuz_app (or as kept)`, async () => {
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
