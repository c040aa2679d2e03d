// Replays the recorded differential vectors of @authcore/fuz-app-realtime
// (ffi-tests/vectors/differential/fuz-app-realtime.json, written by
// `ffi-tests/differential/run.mjs --suite fuz-app-realtime --record` from what fuz_app 79281eb
// answered): every scenario must give the original's trace (step values and errors, what each
// stream received, the ready-made stream's headers and body bytes, on_close calls, log lines),
// or, for a case marked `kept` (docs/compat.md), exactly the answer recorded for us.
import { execute } from '../differential/fuz-app-realtime/execute.mjs'
import { loadOurs } from '../differential/fuz-app-realtime/suite.mjs'
import { loadVectors, replaySuite } from '../differential/replay.mjs'

// Every step kind a scenario can take.
const STEPS = ['registry', 'audit_sse', 'stream', 'subscribe', 'unsubscribe', 'broadcast', 'close_by_identity', 'count', 'make_guard', 'guard_event', 'audit_event', 'hash', 'stream_send', 'stream_comment', 'stream_close', 'stream_on_close', 'stream_on_close_adder', 'stream_on_close_nonfunction']

replaySuite({
  doc: loadVectors('fuz-app-realtime'),
  ours: await loadOurs(),
  execute,
  original: 'fuz_app',
  ops: STEPS,
  opsOf: (c) => c.input.steps.map((s) => s.op),
})
