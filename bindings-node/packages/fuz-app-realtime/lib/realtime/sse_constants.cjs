'use strict'
// @authcore/fuz-app-realtime/realtime/sse_constants.js: the exports of fuz_app's realtime/sse_constants.ts that this package implements.
const all = require('../index.cjs')

module.exports = { SSE_CONNECTED_COMMENT: all.SSE_CONNECTED_COMMENT }
