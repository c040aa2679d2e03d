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
    // Email and SMS notifications go through the application's hooks (sendEmail / sendSms):
    // the original's built-in HTTP mailer and SMS gateway (emailConfig / smsConfig) are not
    // reproduced, so a config without its hook is refused here rather than dropped later.
    if ((options.emailConfig && typeof options.sendEmail !== 'function') || (options.smsConfig && typeof options.sendSms !== 'function')) {
      throw new Error(
        'AuthTools: emailConfig/smsConfig need the sendEmail/sendSms hooks in @authcore/node-auth-core (the built-in HTTP mailer and SMS gateway are not included); pass sendEmail({to, subject, text, html, from?, fromName?}) and sendSms({to, message})',
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
    const wantsEmail = channels.includes('email')
    const wantsSms = channels.includes('sms')
    const users = this.#options.userStore
    if (!(wantsEmail || wantsSms) || !options.userId || !users) return
    let user = null
    try {
      user = await users.findById(options.userId)
    } catch {
      user = null
    }
    if (!user) return
    const o = this.#options
    const quiet = (fn, msg) => {
      try {
        Promise.resolve(fn(msg)).catch(() => {})
      } catch {
        // fire-and-forget, errors swallowed (as the original)
      }
    }
    if (wantsEmail && user.email && typeof o.sendEmail === 'function') {
      const subject = options.emailSubject ?? (options.type ? String(options.type) : 'Notification')
      const text = typeof data === 'string' ? data : JSON.stringify(data, null, 2)
      // The original put the body into the HTML unescaped (HTML injection): escaped here.
      const html = `<p>${escapeHtml(String(text)).replace(/\n/g, '<br>')}</p>`
      const cfg = o.emailConfig ?? {}
      quiet(o.sendEmail, { to: user.email, subject, text, html, from: cfg.from, fromName: cfg.fromName })
    }
    if (wantsSms && user.phoneNumber && typeof o.sendSms === 'function') {
      const message = options.smsMessage ?? (typeof data === 'string' ? data : JSON.stringify(data))
      quiet(o.sendSms, { to: user.phoneNumber, message })
    }
  }
}

function escapeHtml(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

module.exports = { AuthTools }
