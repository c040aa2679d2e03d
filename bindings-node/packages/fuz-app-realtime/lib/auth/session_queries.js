// @authcore/fuz-app-realtime/auth/session_queries.js: the exports of fuz_app's auth/session_queries.ts that this package implements.
import cjs from '../index.cjs'

export const { hash_session_token } = cjs
