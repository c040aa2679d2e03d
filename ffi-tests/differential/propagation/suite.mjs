// The propagation suite: @authcore/node-hmac-auth-core-propagation against
// @naskot/node-hmac-auth-core-propagation 1.0.0 (its src/, amqplib replaced by an in-process
// stand-in; see ffi-tests/differential/README.md).
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { execute } from './execute.mjs'
import { generate } from './generate.mjs'
import { kept } from './kept.mjs'

export { execute, generate, kept }

export const originalName = '@naskot/node-hmac-auth-core-propagation 1.0.0 (wire names, errors, option checks, flows)'
export const description =
  'Differential vectors of @authcore/node-hmac-auth-core-propagation against @naskot/node-hmac-auth-core-propagation 1.0.0: buildQueueName, DEFAULT_AMQP_VHOST, HmacPropagationError and createPropagator option checks (order, messages, codes, the queue-name Error), and flows on an in-process mesh: ensure/rotate/revoke/sync, the event and ACK bytes, ACK handling, the receive pipeline (cursor, secrets, malformed events), the propagation Redis state and the credential stores. Ops and the outcome shape: ffi-tests/differential/README.md.'

const require = createRequire(import.meta.url)

export async function loadOriginal(dir) {
  const entry = path.join(dir, 'dist', 'pure.mjs')
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing (ffi-tests/differential/README.md)`)
  const mod = await import(pathToFileURL(entry).href)
  // The HMAC core the original's peers use: the original's own build next to it.
  const hmacEntry = path.join(dir, '..', 'node-hmac-auth-core', 'dist', 'pure.mjs')
  if (!fs.existsSync(hmacEntry)) throw new Error(`${hmacEntry} is missing (ffi-tests/differential/README.md)`)
  const hmac = await import(pathToFileURL(hmacEntry).href)
  const side = { tag: 'original', createPropagator: mod.createPropagator, hmac, mesh: mod.fakeMesh }
  return { ...mod, createPropagator: mod.createPropagatorChecks, authInstance: () => ({}), side }
}

export async function loadOurs() {
  const mod = require('@authcore/node-hmac-auth-core-propagation')
  const core = require('@authcore/node-hmac-auth-core')
  const native = require('@authcore/native')
  const mesh = (name) => ({
    declare: (q) => native.propagationMeshDeclare(name, q),
    inject: (q, bytes) => native.propagationMeshInject(name, q, Buffer.from(bytes)),
    take: (q) => native.propagationMeshTake(name, q),
    depth: (q) => native.propagationMeshDepth(name, q),
    inFlight: () => native.propagationMeshInFlight(name),
  })
  const side = { tag: 'ours', createPropagator: mod.createPropagator, hmac: core, mesh }
  return { ...mod, authInstance: () => core.initializeHmacHttpAuth({ redis: 'memory://' }), side }
}
