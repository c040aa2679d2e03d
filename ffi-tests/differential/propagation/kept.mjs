// Deliberate differences (docs/compat.md, "@naskot/node-hmac-auth-core-propagation 1.0.0").

/** A flow's outcome without S's credential store right after ensure/rotate/revoke. */
function withoutLocalApply(outcome) {
  const o = structuredClone(outcome)
  for (const t of o.ok?.trace ?? []) if (['ensure', 'rotate', 'revoke'].includes(t.step)) delete t.creds?.S
  return o
}

/** Stale events answered as the original answers them (an `applied` ACK, a warning). */
function staleAsOriginal(o) {
  for (const [, e] of o.ok?.wire ?? []) {
    if (e?.op === 'credential.ack' && e.ackResult === 'error' && e.ackReason === 'stale') {
      e.ackResult = 'applied'
      e.ackReason = null
    }
  }
  for (const peer of Object.keys(o.ok?.logs ?? {})) o.ok.logs[peer] = o.ok.logs[peer].filter(([, l]) => !/^\[propagation\] dropping stale event /.test(l))
  return o
}

/** Per (client, target), only the ACK record (and pending entry) of the newest event
 * published so far: a new event supersedes the outstanding one (uuid names follow publish
 * order). */
function supersededDropped(o) {
  const num = (k) => Number(/<uuid#(\d+)>/.exec(k)?.[1] ?? -1)
  const newest = new Map()
  for (const t of o.ok?.trace ?? []) {
    // A new request supersedes the client's outstanding events at once (ours) or at the
    // next sync's records (the original's): S's state right after the call is not compared.
    if (['ensure', 'rotate', 'revoke'].includes(t.step)) delete t.state?.S
    for (const st of Object.values(t.state ?? {})) {
      for (const [k, v] of Object.entries(st)) {
        if (!k.startsWith('propagation:ack:')) continue
        const pair = `${v.value.clientId}\n${v.value.targetAmqpQueue}`
        newest.set(pair, Math.max(newest.get(pair) ?? -1, num(k)))
      }
      for (const [k, v] of Object.entries(st)) {
        if (!k.startsWith('propagation:ack:') || num(k) === newest.get(`${v.value.clientId}\n${v.value.targetAmqpQueue}`)) continue
        const id = k.slice('propagation:ack:'.length)
        delete st[k]
        for (const [pk, pv] of Object.entries(st)) {
          if (pk.startsWith('propagation:client-pending:')) {
            pv.value = pv.value.filter((m) => m !== id)
            if (pv.value.length === 0) delete st[pk]
          }
        }
      }
    }
  }
  return o
}

/** The reason of a `dropping malformed event` line blanked (parser messages differ). */
function malformedReasonBlank(o) {
  for (const peer of Object.keys(o.ok?.logs ?? {})) {
    for (const line of o.ok.logs[peer]) line[1] = line[1].replace(/^(\[propagation\] dropping malformed event: ).*$/s, '$1<reason>')
  }
  return o
}

export function kept(kase, ours, theirs) {
  if (kase.op === 'createPropagator' && theirs.ok === 'created' && ours.error?.code === 'INVALID_OPTIONS') {
    const p = kase.input.amqpPort
    if (/amqpPort|amqpProtocol/.test(ours.error.message)) return 'docs/compat.md: Invalid `amqpProtocol` / `amqpPort`'
    if (typeof p !== 'number') return 'docs/compat.md: Invalid `amqpProtocol` / `amqpPort`'
  }
  if (kase.op === 'flow.scenario') {
    const reduce = (x, fns) => JSON.stringify(fns.reduce((o, f) => f(o), structuredClone(x)))
    const steps = [
      [withoutLocalApply, 'docs/compat.md: Local apply in `ensure`/`rotate`/`revoke`'],
      [staleAsOriginal, 'docs/compat.md: Stale event (older than the receiver\'s cursor)'],
      [malformedReasonBlank, 'docs/compat.md: Reason of a dropped malformed event'],
      [supersededDropped, 'docs/compat.md: Failed publish (one outstanding event per client and target)'],
    ]
    // The fewest reductions that make both sides equal, named in order.
    for (let n = 1; n < 1 << steps.length; n++) {
      const fns = steps.filter((_, i) => n & (1 << i))
      if (reduce(ours, fns.map((f) => f[0])) === reduce(theirs, fns.map((f) => f[0]))) return fns.map((f) => f[1]).join('; ')
    }
  }
  return null
}

/** Every reduction at once (for inspecting what a difference leaves). */
export function reduced(x) {
  return [withoutLocalApply, staleAsOriginal, malformedReasonBlank, supersededDropped].reduce((o, f) => f(o), structuredClone(x))
}
