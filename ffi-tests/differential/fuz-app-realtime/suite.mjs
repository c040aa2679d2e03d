// The fuz-app-realtime suite: @authcore/fuz-app-realtime against fuz_app 79281eb
// (fuzdev/fuz_app src/lib, bundled with esbuild; see ffi-tests/differential/README.md).
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { execute } from './execute.mjs'
import { generate } from './generate.mjs'
import { kept } from './kept.mjs'

export { execute, generate, kept }

export const originalName = 'fuz_app 79281eb (realtime SSE auth guard)'
export const description =
  'Differential vectors of @authcore/fuz-app-realtime against fuz_app 79281eb: scenarios over SubscriberRegistry (caps, channels, identities incl. lone surrogates, re-entrant streams), create_sse_auth_guard, create_audit_log_sse, create_sse_response (headers and body bytes) and hash_session_token. Ops and the outcome shape: ffi-tests/differential/README.md.'

export async function loadOriginal(dir) {
  const entry = path.join(dir, 'dist', 'fuz_app_realtime.mjs')
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: build fuz_app 79281eb there (ffi-tests/differential/README.md)`)
  // fuz_app targets Node 22; Node 20 lacks Promise.withResolvers (standard ES2024 semantics).
  if (typeof Promise.withResolvers !== 'function') {
    Promise.withResolvers = function withResolvers() {
      let resolve, reject
      const promise = new this((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    }
  }
  const mod = await import(pathToFileURL(entry).href)
  const { Hono } = await import(pathToFileURL(createRequire(path.join(dir, 'package.json')).resolve('hono')).href)
  return {
    ...mod,
    async sse(log) {
      let made
      const app = new Hono()
      app.get('/', (c) => {
        made = mod.create_sse_response(c, log)
        return made.response
      })
      const response = await app.request('/')
      return { response, stream: made.stream }
    },
  }
}

export async function loadOurs() {
  const mod = createRequire(import.meta.url)('@authcore/fuz-app-realtime')
  return { ...mod, sse: async (log) => mod.create_sse_response(null, log) }
}
