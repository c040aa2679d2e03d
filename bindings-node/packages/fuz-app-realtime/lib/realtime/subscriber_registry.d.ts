// @authcore/fuz-app-realtime/realtime/subscriber_registry.js: the exports of fuz_app's realtime/subscriber_registry.ts that this package implements.
export { SubscriberRegistry } from '../index.js'
export type { Subscriber, SubscriberRegistryOptions, SubscribeOptions } from '../index.js'
