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

export function kept(kase, ours, theirs) {
  if (kase.op === 'verifyHttpSignature' && withoutNonceTtl(ours) === withoutNonceTtl(theirs)) {
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
