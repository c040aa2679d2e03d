'use strict'
// @authcore/fuz-app-realtime/auth/session_queries.js: the exports of fuz_app's auth/session_queries.ts that this package implements.
const all = require('../index.cjs')

module.exports = { hash_session_token: all.hash_session_token }
