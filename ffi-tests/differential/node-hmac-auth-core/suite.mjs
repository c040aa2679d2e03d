// The node-hmac-auth-core suite: @authcore/node-hmac-auth-core against the signing track of
// @naskot/node-hmac-auth-core 1.0.0 (padcmoi/node-hmac-auth-core src/core/crypto.ts,
// src/core/utils.ts, src/message/signature.ts; see ffi-tests/differential/README.md).
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { execute } from './execute.mjs'
import { generate } from './generate.mjs'
import { kept } from './kept.mjs'

export { execute, generate, kept }

export const originalName = '@naskot/node-hmac-auth-core 1.0.0 (signing track, verifyHttpSignature)'
export const description =
  'Differential vectors of @authcore/node-hmac-auth-core against @naskot/node-hmac-auth-core 1.0.0: buildSigningPayload, signRequest, hashClientSecret, hashBody, safeEqualHex, buildMessageSigningPayload, signMessage, verifyMessage, and verifyHttpSignature over a fake node-redis/ioredis client recording its commands, on random methods, paths (WHATWG edge cases), timestamps, nonces, bodies, secrets and messages (canonical JSON). Ops and the outcome shape: ffi-tests/differential/README.md.'

export async function loadOriginal(dir) {
  const entry = path.join(dir, 'dist', 'pure.mjs')
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing (ffi-tests/differential/README.md)`)
  return import(pathToFileURL(entry).href)
}

export async function loadOurs() {
  return createRequire(import.meta.url)('@authcore/node-hmac-auth-core')
}
