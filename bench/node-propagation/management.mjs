// The in-memory management adapter of the propagation benchmark: the POC's SQL adapter
// contract (spec §2.4, §4: Tables 1-3) with the publish-once policy (fetchPendingPropagations
// returns only `pending` rows), plus hooks the benchmark uses to time the ACK side. The same
// adapter object type serves the original and ours, so its cost is identical for both.
export class MemoryManagement {
  constructor(directory = {}, hooks = {}) {
    /** Table 1: clientId -> { track, secretPlain, allowedIps, expiresAt, fresh } */
    this.credentials = new Map()
    /** Table 2: target -> its env secret */
    this.directory = new Map(Object.entries(directory))
    /** Table 3: clientId -> Map(target -> status) */
    this.status = new Map()
    this.hooks = hooks
    // fullyEarly: reported before every target of the credential had an ACK result (spec §10)
    this.counts = { sent: 0, success: 0, error: 0, fully: 0, fullyNotSuccess: 0, fullyEarly: 0 }
    /** clientId -> targets with an ACK result */
    this.answered = new Map()
    /** clientIds reported fully propagated (a credential reported twice is counted once here) */
    this.fullyClients = new Set()
  }

  async upsertCredentialWithTargets(i) {
    const fresh = !this.credentials.has(i.clientId)
    this.credentials.set(i.clientId, { track: i.track, secretPlain: i.secretPlain, allowedIps: i.allowedIps, expiresAt: i.expiresAt ?? null, fresh })
    let rows = this.status.get(i.clientId)
    if (!rows) this.status.set(i.clientId, (rows = new Map()))
    for (const t of i.targets) rows.set(t, 'pending')
  }

  async rotateCredentialSecret(i) {
    const c = this.credentials.get(i.clientId)
    if (c) {
      c.secretPlain = i.secretPlain
      c.fresh = false
    }
    for (const t of this.status.get(i.clientId)?.keys() ?? []) this.status.get(i.clientId).set(t, 'pending')
  }

  // Publish-once (latest docs and POC): only `pending` rows, one entry per clientId.
  async fetchPendingPropagations() {
    const out = []
    for (const [clientId, rows] of this.status) {
      const pendingTargets = []
      for (const [target, st] of rows) {
        if (st === 'pending') pendingTargets.push({ targetAmqpQueue: target, propagationSecret: this.directory.get(target) ?? '' })
      }
      if (pendingTargets.length === 0) continue
      const c = this.credentials.get(clientId)
      const op = c.secretPlain === null ? 'credential.delete' : c.fresh ? 'credential.create' : 'credential.update'
      const p = { clientId, track: c.track, op, secretPlain: c.secretPlain, expiresAt: c.expiresAt, pendingTargets }
      if (c.allowedIps !== undefined) p.allowedIps = c.allowedIps
      out.push(p)
    }
    return out
  }

  async fetchSourcePropagationSecret(q) {
    return this.directory.get(q) ?? null
  }

  async markTargetSent(i) {
    this.status.get(i.clientId)?.set(i.targetAmqpQueue, 'sent')
    this.counts.sent++
  }

  async markTargetSuccess(i) {
    this.status.get(i.clientId)?.set(i.targetAmqpQueue, 'success')
    this.answer(i)
    this.counts.success++
    this.hooks.onResult?.()
  }

  async markTargetError(i) {
    this.status.get(i.clientId)?.set(i.targetAmqpQueue, 'error')
    this.answer(i)
    this.counts.error++
    this.hooks.onResult?.()
  }

  answer(i) {
    let s = this.answered.get(i.clientId)
    if (!s) this.answered.set(i.clientId, (s = new Set()))
    s.add(i.targetAmqpQueue)
  }

  /** Table 3 rows not `success`/`error` although every ACK came back: a late markTargetSent overwrote the result (spec §7). */
  rowsLeftSent() {
    let n = 0
    for (const rows of this.status.values()) for (const st of rows.values()) if (st === 'sent' || st === 'pending') n++
    return n
  }

  async markCredentialFullyPropagated(i) {
    const c = this.credentials.get(i.clientId)
    if (c) c.secretPlain = null
    this.counts.fully++
    if ((this.answered.get(i.clientId)?.size ?? 0) < (this.status.get(i.clientId)?.size ?? 0)) this.counts.fullyEarly++
    if (i.finalStatus !== 'success') this.counts.fullyNotSuccess++
    this.fullyClients.add(i.clientId)
    this.hooks.onFully?.(i)
  }
}
