// The propagation suite: @authcore/node-hmac-auth-core-propagation against the synchronous
// surface of @naskot/node-hmac-auth-core-propagation 1.0.0 (src/wire.ts, src/errors.ts and
// createPropagator's assertOptions; see ffi-tests/differential/README.md).
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { execute } from './execute.mjs'
import { generate } from './generate.mjs'
import { kept } from './kept.mjs'

export { execute, generate, kept }

export const originalName = '@naskot/node-hmac-auth-core-propagation 1.0.0 (wire names, errors, option checks)'
export const description =
  'Differential vectors of @authcore/node-hmac-auth-core-propagation against @naskot/node-hmac-auth-core-propagation 1.0.0: buildQueueName, DEFAULT_AMQP_VHOST, HmacPropagationError and createPropagator option checks (order, messages, codes, the queue-name Error). Ops and the outcome shape: ffi-tests/differential/README.md.'

const require = createRequire(import.meta.url)

export async function loadOriginal(dir) {
  const entry = path.join(dir, 'dist', 'pure.mjs')
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing (ffi-tests/differential/README.md)`)
  const mod = await import(pathToFileURL(entry).href)
  return { ...mod, createPropagator: mod.createPropagatorChecks, authInstance: () => ({}) }
}

export async function loadOurs() {
  const mod = require('@authcore/node-hmac-auth-core-propagation')
  const core = require('@authcore/node-hmac-auth-core')
  return { ...mod, authInstance: () => core.initializeHmacHttpAuth({ redis: 'memory://' }) }
}
