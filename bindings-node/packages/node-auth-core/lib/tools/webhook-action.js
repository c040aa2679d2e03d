'use strict'
// ActionRegistry and the @webhookAction decorator of awesome-node-auth 1.9.0
// (src/tools/webhook-action.ts). The registry is kept; the inbound scripts that used it are
// refused (see tools-router.js), so buildContext only serves applications that call it.
const registry = new Map()

class ActionRegistry {
  static register(entry) {
    registry.set(entry.id, entry)
  }

  static getAll() {
    return [...registry.values()]
  }

  static getAllMeta() {
    return [...registry.values()].map(({ fn: _fn, ...meta }) => meta)
  }

  static get(id) {
    return registry.get(id)
  }

  // allowed ∩ enabled, in registration order; an action whose dependsOn leaves that set is dropped.
  static buildContext(enabledIds, allowedIds) {
    const enabled = enabledIds ?? []
    const effective = (allowedIds ?? []).filter((id) => enabled.includes(id))
    const ctx = {}
    for (const entry of registry.values()) {
      if (!effective.includes(entry.id)) continue
      if ((entry.dependsOn ?? []).every((d) => effective.includes(d))) ctx[entry.id] = entry.fn
    }
    return ctx
  }

  static clear() {
    registry.clear()
  }
}

// TC39 method decorator: registers the (unbound) method at class definition, returns it unchanged.
function webhookAction(meta) {
  return function (method, _context) {
    ActionRegistry.register({ ...meta, fn: method })
    return method
  }
}

module.exports = { ActionRegistry, webhookAction }
