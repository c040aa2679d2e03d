// @authcore/fuz-app-realtime/auth/session_queries.js: the exports of fuz_app's auth/session_queries.ts that this package implements.
export { hash_session_token } from '../index.js'
