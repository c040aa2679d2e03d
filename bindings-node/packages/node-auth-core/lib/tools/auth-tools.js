'use strict'
// AuthTools of awesome-node-auth 1.9.0 (src/tools/auth-tools.ts): track() persists, publishes on
// the bus, streams over SSE and forwards to outgoing webhooks; notify() pushes to an SSE topic.
const { randomUUID } = require('node:crypto')
const { SseManager } = require('./sse-manager')
const { WebhookSender } = require('./webhook-sender')
const { SseNotifyRegistry } = require('./sse-notify')
const { AuthEventNames } = require('./event-bus')

class AuthTools {
  #options
  #webhookSender

  constructor(eventBus, options = {}) {
    if (options.emailConfig || options.smsConfig) {
      throw new Error(
        'AuthTools: emailConfig/smsConfig (notify over email or SMS) is not available in @authcore/node-auth-core; send those from your own notifier',
      )
    }
    this.#options = options
    this.eventBus = eventBus
    this.sseManager = options.sse ? new SseManager(options.sseOptions ?? {}) : null
    this.#webhookSender = new WebhookSender(options.webhookOptions ?? {})
    if (this.sseManager) SseNotifyRegistry.setManager(this.sseManager)
  }

  async track(eventName, data, options = {}) {
    const { userId, tenantId, sessionId, correlationId, ip, userAgent } = options
    // An event name that would inject SSE fields is refused before anything happens.
    if (this.sseManager && /[\r\n]/.test(String(eventName))) {
      const err = new Error('SSE event type must not contain a line break (CR or LF)')
      err.code = 'EVENTS_INVALID_FIELD'
      err.status = 400
      throw err
    }
    const id = randomUUID()
    const timestamp = new Date().toISOString()
    const record = { id, event: eventName, timestamp, data, userId, tenantId, sessionId, correlationId, ip, userAgent }
    const store = this.#options.telemetryStore
    if (store) {
      try {
        await store.save(record)
      } catch {
        // a failing store never fails track (a synchronous throw included)
      }
    }
    // A throwing listener no longer aborts SSE and webhooks: it rejects track afterwards.
    let listenerError = null
    try {
      this.eventBus.publish(eventName, { data, userId, tenantId, sessionId, correlationId, ip, userAgent })
    } catch (err) {
      listenerError = { err }
    }
    if (this.sseManager) {
      // ip and userAgent stay out of the stream (every global subscriber would see them).
      const streamed = this.#options.sseIncludeClientInfo === true ? record : { ...record, ip: undefined, userAgent: undefined }
      const event = { id, timestamp, type: eventName, data: streamed, userId, tenantId }
      this.sseManager.broadcast('global', event)
      if (tenantId) this.sseManager.broadcast(`tenant:${tenantId}`, event)
      if (userId) this.sseManager.broadcast(`user:${userId}`, event)
      if (sessionId) this.sseManager.broadcast(`session:${sessionId}`, event)
      // A revoked session's streams end with the event that revoked it.
      if (eventName === AuthEventNames.SESSION_REVOKED && sessionId) this.sseManager.disconnectSession(sessionId)
      if (eventName === AuthEventNames.USER_DELETED && userId) this.sseManager.disconnectUser(userId)
    }
    const webhookStore = this.#options.webhookStore
    if (webhookStore) {
      let configs = []
      try {
        configs = (await webhookStore.findByEvent(eventName, tenantId)) ?? []
      } catch {
        configs = []
      }
      const body = {
        event: eventName,
        version: this.#options.webhookVersion ?? '1',
        timestamp,
        data: data ?? null,
        metadata: { userId, tenantId, sessionId, correlationId },
      }
      for (const config of configs) this.#webhookSender.send(config, body).catch(() => {})
    }
    if (listenerError) throw listenerError.err
  }

  async notify(target, data, options = {}) {
    const channels = options.channels ?? ['sse']
    if (channels.includes('sse') && this.sseManager) {
      this.sseManager.broadcast(target, {
        type: options.type ?? 'notification',
        data,
        tenantId: options.tenantId,
        userId: options.userId,
        metadata: options.metadata,
      })
    }
  }
}

module.exports = { AuthTools }
