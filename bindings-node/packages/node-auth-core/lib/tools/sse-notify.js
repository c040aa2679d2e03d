'use strict'
// SseNotifyRegistry and the @sseNotify decorator of awesome-node-auth 1.9.0
// (src/tools/sse-notify.decorator.ts). Process-global, as the original: the last AuthTools
// constructed with SSE wins.
let manager = null

class SseNotifyRegistry {
  static setManager(m) {
    manager = m ?? null
  }

  static notify(topic, event) {
    if (!manager) return
    manager.broadcast(topic, { type: event.type, data: event.data, tenantId: event.tenantId, userId: event.userId })
  }

  static async executeNotify(options, args, result) {
    try {
      const topic = typeof options.topic === 'function' ? options.topic(args, result) : options.topic
      const data = options.payload ? options.payload(result, args) : result
      const type = options.event ?? 'notification'
      const tenantId = options.tenantId ? options.tenantId(result, args) : undefined
      const userId = options.userId ? options.userId(result, args) : undefined
      SseNotifyRegistry.notify(topic, { type, data, tenantId, userId })
    } catch (err) {
      console.error('[SseNotifyRegistry] Failed to send SSE notification:', err)
    }
  }
}

// TC39 method decorator: the method becomes async; the notification follows its result.
function sseNotify(options) {
  return function (method, _context) {
    return async function (...args) {
      const result = await method.apply(this, args)
      await SseNotifyRegistry.executeNotify(options, args, result)
      return result
    }
  }
}

module.exports = { SseNotifyRegistry, sseNotify }
