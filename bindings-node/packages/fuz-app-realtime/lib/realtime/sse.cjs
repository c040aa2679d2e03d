'use strict'
// @authcore/fuz-app-realtime/realtime/sse.js: the exports of fuz_app's realtime/sse.ts that this package implements.
const all = require('../index.cjs')

module.exports = { SSE_CONNECTED_COMMENT: all.SSE_CONNECTED_COMMENT, create_sse_response: all.create_sse_response, create_validated_broadcaster: all.create_validated_broadcaster, create_sse_node_stream: all.create_sse_node_stream, SSE_HEADERS: all.SSE_HEADERS }
