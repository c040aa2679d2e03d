// Test helpers: fuz_app's mock stream (records `sent` and `closed`, on_close does nothing
// unless listeners are wanted), a capturing logger, and create_test_audit_event's defaults.

/** A mock SseStream. `listeners: true` makes close() run on_close listeners once, in order. */
export function mockStream({ listeners = false } = {}) {
  const s = {
    sent: [],
    comments: [],
    closed: false,
    closeCalls: 0,
    fns: [],
    send(data) {
      this.sent.push(data)
    },
    comment(text) {
      this.comments.push(text)
    },
    close() {
      this.closeCalls += 1
      if (this.closed) return
      this.closed = true
      if (listeners) for (const fn of this.fns.splice(0)) fn()
    },
    on_close(fn) {
      if (listeners && !this.closed) this.fns.push(fn)
    },
  }
  return s
}

/** A logger recording `[level, ...args]`. */
export function captureLogger() {
  const lines = []
  return {
    lines,
    info: (...a) => lines.push(['info', ...a]),
    warn: (...a) => lines.push(['warn', ...a]),
    error: (...a) => lines.push(['error', ...a]),
    debug: (...a) => lines.push(['debug', ...a]),
  }
}

/** fuz_app's create_test_audit_event. */
export function auditEvent(overrides = {}) {
  return {
    id: 'evt-test',
    seq: 1,
    event_type: 'login',
    outcome: 'success',
    actor_id: 'actor-test',
    account_id: 'acct-test',
    target_account_id: null,
    target_actor_id: null,
    ip: '127.0.0.1',
    created_at: '2024-01-01T00:00:00Z',
    metadata: null,
    ...overrides,
  }
}

export const silent = { info() {}, warn() {}, error() {}, debug() {} }
