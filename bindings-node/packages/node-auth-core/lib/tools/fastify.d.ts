import type { AuthTools } from '../../index'

/** Options of the Fastify plugin serving AuthTools' SSE stream. */
export interface AuthToolsFastifyOptions {
  /** The AuthTools instance (constructed with `sse: true`; without it the route answers 503). */
  tools: AuthTools
  /**
   * A Fastify hook `(request, reply)` that authenticates the caller and sets
   * `request.user` (`{ id | sub, tenantId?, sid? }`), or answers 401/403 itself.
   */
  authenticate?: (request: any, reply: any) => unknown
  /** The route's path inside the plugin's prefix (default `/stream`). */
  streamPath?: string
  /** Fastify's own register option. */
  prefix?: string
}

/** Serves `GET <prefix>/stream` (AuthTools' SSE stream) from Fastify. */
declare function authToolsFastify(fastify: any, options: AuthToolsFastifyOptions, done: (err?: Error) => void): void
declare namespace authToolsFastify {
  export { authToolsFastify }
  export { authToolsFastify as default }
}
export = authToolsFastify
