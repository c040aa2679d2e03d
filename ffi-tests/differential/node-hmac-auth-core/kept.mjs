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

export function kept(kase, ours, theirs) {
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
