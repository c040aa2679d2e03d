// Deliberate differences (docs/compat.md, "@naskot/node-hmac-auth-core 1.0.0").

/** A path whose pathname Node's own URL parser (ada 2.9.2 in Node 20) ends with `/.`; the
 * WHATWG standard never keeps a single-dot segment. */
function adaTrailingDot(path) {
  try {
    return new URL(path, 'http://localhost').pathname.endsWith('/.')
  } catch {
    return false
  }
}

/** The outcome with the nonce claim's `EX` seconds blanked (node-redis and ioredis forms). */
function withoutNonceTtl(outcome) {
  const o = structuredClone(outcome)
  for (const call of o.ok?.calls ?? []) {
    if (call[0] !== 'set') continue
    for (let i = 3; i < call.length; i++) {
      if (typeof call[i] === 'string' && call[i].startsWith('{')) call[i] = call[i].replace(/"EX":-?\d+/, '"EX":"<ttl>"')
      if (call[i - 1] === 'EX') call[i] = '<ttl>'
    }
  }
  return JSON.stringify(o)
}

/** A clients scenario without the backup writes of steps that then failed. */
function withoutFailedBackups(outcome) {
  const o = structuredClone(outcome)
  if (!o.ok?.trace) return JSON.stringify(o)
  const calls = []
  let at = 0
  for (const step of o.ok.trace) {
    if (step[0] === 'init') continue
    const mine = o.ok.calls.slice(at, at + step[2])
    at += step[2]
    const keep = step[1].error ? mine.filter((c) => !(c[0] === 'set' && String(c[1]).includes(':credentials-backup:'))) : mine
    step[2] = keep.length
    calls.push(...keep)
  }
  o.ok.calls = calls
  return JSON.stringify(o)
}

export function kept(kase, ours, theirs) {
  if (kase.op === 'clients.scenario' && JSON.stringify(ours) === withoutFailedBackups(theirs)) {
    return 'docs/compat.md: A failing `setSecret`/`setSecretHash`/`regenerateSecret` writes nothing'
  }
  if ((kase.op === 'verifyHttpSignature' || kase.op === 'middleware.scenario') && withoutNonceTtl(ours) === withoutNonceTtl(theirs)) {
    return 'docs/compat.md: Nonce TTL'
  }
  if ((kase.op === 'signRequest' || kase.op === 'buildSigningPayload') && adaTrailingDot(kase.input.path)) {
    return 'docs/compat.md: Paths ending in a `.` segment after a dot-led segment'
  }
  if (theirs.error?.code === 'ERR_INVALID_URL' && ours.error?.code === 'INVALID_INPUT' && ours.error.message === 'Invalid URL') {
    return 'docs/compat.md: Invalid URL in the path'
  }
  if (
    (kase.op === 'signRequest' || kase.op === 'buildSigningPayload') &&
    typeof kase.input.timestamp === 'string' &&
    ours.error?.class === 'TypeError' &&
    /"timestamp" field must be a number/.test(ours.error.message)
  ) {
    return 'docs/compat.md: `signRequest`/`buildSigningPayload` with a non-number `timestamp`'
  }
  return null
}
