'use strict'
// AuthEventBus and AuthEventNames of awesome-node-auth 1.9.0 (src/events/auth-event-bus.ts):
// a plain EventEmitter, in-process and synchronous. Dispatch stays in JS (the listeners are JS).
const { EventEmitter } = require('node:events')

const AuthEventNames = Object.freeze({
  USER_CREATED: 'identity.user.created',
  USER_DELETED: 'identity.user.deleted',
  USER_EMAIL_VERIFIED: 'identity.user.email.verified',
  USER_PASSWORD_CHANGED: 'identity.user.password.changed',
  USER_2FA_ENABLED: 'identity.user.2fa.enabled',
  USER_2FA_DISABLED: 'identity.user.2fa.disabled',
  USER_LINKED: 'identity.user.linked',
  USER_UNLINKED: 'identity.user.unlinked',
  SESSION_CREATED: 'identity.session.created',
  SESSION_REVOKED: 'identity.session.revoked',
  SESSION_EXPIRED: 'identity.session.expired',
  SESSION_ROTATED: 'identity.session.rotated',
  AUTH_LOGIN_SUCCESS: 'identity.auth.login.success',
  AUTH_LOGIN_FAILED: 'identity.auth.login.failed',
  AUTH_LOGOUT: 'identity.auth.logout',
  AUTH_OAUTH_SUCCESS: 'identity.auth.oauth.success',
  AUTH_OAUTH_CONFLICT: 'identity.auth.oauth.conflict',
  TENANT_CREATED: 'identity.tenant.created',
  TENANT_DELETED: 'identity.tenant.deleted',
  TENANT_USER_ADDED: 'identity.tenant.user.added',
  TENANT_USER_REMOVED: 'identity.tenant.user.removed',
  ROLE_ASSIGNED: 'identity.role.assigned',
  ROLE_REVOKED: 'identity.role.revoked',
  PERMISSION_GRANTED: 'identity.permission.granted',
  PERMISSION_REVOKED: 'identity.permission.revoked',
})

class AuthEventBus extends EventEmitter {
  // `{...payload, event, timestamp}`: the payload's keys first. Emits the name, then '*'.
  publish(eventName, payload) {
    const full = {
      ...payload,
      event: eventName,
      timestamp: (payload && payload.timestamp) ?? new Date().toISOString(),
    }
    this.emit(eventName, full)
    this.emit('*', full)
  }

  onEvent(eventName, handler) {
    return this.on(eventName, handler)
  }

  offEvent(eventName, handler) {
    return this.off(eventName, handler)
  }
}

module.exports = { AuthEventBus, AuthEventNames }
