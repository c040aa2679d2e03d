// Replays the recorded differential vectors of @authcore/node-hmac-auth-core-propagation
// (ffi-tests/vectors/differential/propagation.json, written by
// `ffi-tests/differential/run.mjs --suite propagation --record` from what
// @naskot/node-hmac-auth-core-propagation 1.0.0 answered (wire names, errors, option checks)): every call must give the original's value or
// error (class, message, code), or, for a case marked `kept` (docs/compat.md), exactly the
// answer recorded for us.
import { execute, OP_NAMES } from '../differential/propagation/execute.mjs'
import { loadOurs } from '../differential/propagation/suite.mjs'
import { loadVectors, replaySuite } from '../differential/replay.mjs'

replaySuite({
  doc: loadVectors('propagation'),
  ours: await loadOurs(),
  execute,
  original: '@naskot/node-hmac-auth-core-propagation',
  ops: OP_NAMES,
})
