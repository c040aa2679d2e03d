// @authcore/fuz-app-realtime/realtime/sse_constants.js: the exports of fuz_app's realtime/sse_constants.ts that this package implements.
export { SSE_CONNECTED_COMMENT } from '../index.js'
