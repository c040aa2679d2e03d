// Deliberate differences: a case whose two outcomes differ is "kept" only when one of these
// rules explains the difference exactly; each names the docs/compat.md row (section "Node,
// node-auth-core") that says why. Anything else is reported as a difference.
import { dec } from './codec.mjs'

const REF = {
  tokenUse: 'docs/compat.md: Token claims',
  jwks: 'docs/compat.md: `verifyWithJwks(token, client, expectedIssuer?)`',
  payload: 'docs/compat.md: JWT payloads that are not JSON objects',
  crit: 'docs/compat.md: JWT `crit` header',
  size: 'docs/compat.md: JWT size',
  bcrypt: 'docs/compat.md: `PasswordService.hash`/`compare`',
  cookie: 'docs/compat.md: Undecodable cookies',
  totp: 'docs/compat.md: `TotpStrategy.verify`',
  expires: 'docs/compat.md: API-key `expiresAt` given as a string',
  ips: 'docs/compat.md: API-key IP allow-list',
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)
const OUR_USES = ['access', 'refresh', 'mfa_pending']

function withoutTokenUse(outcome) {
  const o = structuredClone(outcome)
  for (const k of ['accessToken', 'refreshToken']) delete o.ok?.[k]?.payload?.token_use
  return o
}

function header(token) {
  try {
    return JSON.parse(Buffer.from(String(token).split('.')[0], 'base64url').toString('utf8'))
  } catch {
    return {}
  }
}

export function kept(kase, ours, theirs) {
  const input = dec(kase.input)
  switch (kase.op) {
    case 'token.generateTokenPair':
    case 'token.generateIdProviderTokenPair':
      return same(withoutTokenUse(ours), theirs) ? REF.tokenUse : null
    case 'token.verifyAccessToken':
    case 'token.verifyRefreshToken': {
      const expected = kase.op === 'token.verifyAccessToken' ? 'access' : 'refresh'
      if (!('ok' in theirs) || !ours.error) return null
      const p = theirs.ok
      if (p && typeof p === 'object' && !Array.isArray(p) && OUR_USES.includes(p.token_use) && p.token_use !== expected) return REF.tokenUse
      if (p === null || typeof p !== 'object' || Array.isArray(p)) return REF.payload
      if (header(input.token).crit !== undefined) return REF.crit
      if (typeof input.token === 'string' && input.token.length > 16 * 1024) return REF.size
      return null
    }
    case 'token.verifyWithJwks':
      return theirs.ok && ['refresh', 'mfa_pending'].includes(theirs.ok.token_use) && ours.error?.message === 'Invalid or expired token' && same(ours.effects, theirs.effects)
        ? REF.jwks
        : null
    case 'password.hash_salt':
      return typeof theirs.ok === 'string' && theirs.ok.includes('$NaN$') && ours.error?.message === 'Illegal number of rounds (4-31): NaN' ? REF.bcrypt : null
    case 'password.compare':
      return input.hash?.startsWith('$argon2id$') && theirs.ok === false && typeof ours.ok === 'boolean' ? REF.bcrypt : null
    case 'cookies.extract':
      return theirs.error?.class === 'URIError' && 'ok' in ours ? REF.cookie : null
    case 'totp.verify': {
      if (!('ok' in ours)) return null
      if (theirs.error && ours.ok === false) return REF.totp // malformed code or secret: false, never a throw
      const drift = input.token?.$totpNow
      if ((drift === -1 || drift === 1) && theirs.ok === false && ours.ok === true) return REF.totp // ±1 step window
      return null
    }
    case 'apikey.authenticate':
    case 'apikey.middleware': {
      const rec = input.store.records[0]
      if (!rec) return null
      if (typeof rec.expiresAt === 'string') return REF.expires
      if ((rec.allowedIps ?? []).some((ip) => ip.includes(':') && ip.includes('/')) || (rec.allowedIps ?? []).some((ip) => /\/(3[3-9]|[4-9]\d|\d{3,})$/.test(ip))) return REF.ips
      return null
    }
    default:
      return null
  }
}
