// The node-auth-core suite: @authcore/node-auth-core against awesome-node-auth 1.9.0
// (commit cc01e99, built with its own `tsc` into dist/).
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { execute } from './execute.mjs'
import { generate } from './generate.mjs'
import { kept } from './kept.mjs'

export { execute, generate, kept }

export const originalName = 'awesome-node-auth 1.9.0 (cc01e99)'
export const description =
  'Differential vectors of @authcore/node-auth-core against awesome-node-auth 1.9.0: PasswordService (bcryptjs hash/compare), TokenService (HS256 pairs, verify, IdP RS256, verifyWithJwks, cookies), TotpStrategy, ApiKeyStrategy/createApiKeyMiddleware/ApiKeyService. Ops and the outcome shape: ffi-tests/differential/README.md.'

export function loadOriginal(dir) {
  const entry = path.join(dir, 'dist', 'index.js')
  if (!fs.existsSync(entry)) {
    throw new Error(`${entry} is missing: check out awesome-node-auth at cc01e99 there, then \`npm ci && npx tsc\``)
  }
  return createRequire(path.join(dir, 'package.json'))('./dist/index.js')
}

export async function loadOurs() {
  return createRequire(import.meta.url)('@authcore/node-auth-core')
}
