// Replays the recorded differential vectors of @authcore/node-auth-core
// (ffi-tests/vectors/differential/node-auth-core.json, written by
// `ffi-tests/differential/run.mjs --suite node-auth-core --record` from what awesome-node-auth
// 1.9.0 answered): every case must give the original's outcome (value or error class, code,
// status and message, cookies, store calls, responses), or, for a case marked `kept`
// (a deliberate difference documented in docs/compat.md), exactly the answer recorded for us.
// No original is needed here.
import { createRequire } from 'node:module'
import { execute, OP_NAMES } from '../differential/node-auth-core/execute.mjs'
import { loadVectors, replaySuite } from '../differential/replay.mjs'

const require = createRequire(import.meta.url)

replaySuite({
  doc: loadVectors('node-auth-core'),
  ours: require('@authcore/node-auth-core'),
  execute,
  original: 'awesome-node-auth',
  ops: OP_NAMES,
})
