// @authcore/fuz-app-realtime/realtime/subscriber_registry.js: the exports of fuz_app's realtime/subscriber_registry.ts that this package implements.
import cjs from '../index.cjs'

export const { SubscriberRegistry } = cjs
