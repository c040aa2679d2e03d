'use strict'
// @authcore/fuz-app-realtime/realtime/subscriber_registry.js: the exports of fuz_app's realtime/subscriber_registry.ts that this package implements.
const all = require('../index.cjs')

module.exports = { SubscriberRegistry: all.SubscriberRegistry }
