'use strict'
// @authcore/fuz-app-realtime/auth/audit_log_route_schema.js: the exports of fuz_app's auth/audit_log_route_schema.ts that this package implements.
const all = require('../index.cjs')

module.exports = { DEFAULT_AUDIT_STREAM_ROLE: all.DEFAULT_AUDIT_STREAM_ROLE }
