'use strict'
// @authcore/fuz-app-realtime/auth/audit_log_schema.js: the exports of fuz_app's auth/audit_log_schema.ts that this package implements.
const all = require('../index.cjs')

module.exports = { AUDIT_EVENT_TYPES: all.AUDIT_EVENT_TYPES, AuditLogEventJson: all.AuditLogEventJson }
