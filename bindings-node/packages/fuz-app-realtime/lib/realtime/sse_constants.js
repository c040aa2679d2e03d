// @authcore/fuz-app-realtime/realtime/sse_constants.js: the exports of fuz_app's realtime/sse_constants.ts that this package implements.
import cjs from '../index.cjs'

export const { SSE_CONNECTED_COMMENT } = cjs
