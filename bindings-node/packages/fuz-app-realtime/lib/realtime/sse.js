// @authcore/fuz-app-realtime/realtime/sse.js: the exports of fuz_app's realtime/sse.ts that this package implements.
import cjs from '../index.cjs'

export const { SSE_CONNECTED_COMMENT, create_sse_response, create_validated_broadcaster, create_sse_node_stream, SSE_HEADERS } = cjs
