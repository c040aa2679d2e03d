// Replays the recorded differential vectors of @authcore/node-hmac-auth-core
// (ffi-tests/vectors/differential/node-hmac-auth-core.json, written by
// `ffi-tests/differential/run.mjs --suite node-hmac-auth-core --record` from what
// @naskot/node-hmac-auth-core 1.0.0 answered): every call must give the original's value or
// error (class, message, code), or, for a case marked `kept` (docs/compat.md), exactly the
// answer recorded for us.
import { execute, OP_NAMES } from '../differential/node-hmac-auth-core/execute.mjs'
import { loadOurs } from '../differential/node-hmac-auth-core/suite.mjs'
import { loadVectors, replaySuite } from '../differential/replay.mjs'

replaySuite({
  doc: loadVectors('node-hmac-auth-core'),
  ours: await loadOurs(),
  execute,
  original: '@naskot/node-hmac-auth-core',
  ops: OP_NAMES,
})
