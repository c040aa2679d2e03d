// Randomised single calls of @naskot/node-hmac-auth-core's signing track: the HTTP signing
// payload, request signatures, secret and body hashes, hex comparison, and the message track
// (canonical JSON of objects: key order by localeCompare, Dates, nesting).
import { enc, rng } from '../fuz-app-realtime/codec.mjs'
import { clientsCase, middlewareCase } from './lifecycle.mjs'

const TEXT = ['', ' ', 'abc', 'é ü 密码', '😀', 'a\uD800b', '\uDFFF', 'tab\tnl\nq"\\', '\u0000', 'x'.repeat(300)]
const PATHS = [
  '/', '', '/a/b', '/a b', '/a?b=1&c=2', '/a?', '/a#frag', '?q=1', 'http://h.example/p?q#f', 'https://u:p@h:8443/x/../y',
  '///x', '//host/p', '\\\\x\\y', '/%zz', '/é', '/😀?é=1', 'http://[bad', '/a/./b/../c', 'HTTP://H/P', '/a\tb', ' /lead', 'mailto:x',
]
const METHODS = ['get', 'POST', 'Put', 'delete', 'patch', 'ünïcode', '', 'x y']
const HEX = '0123456789abcdefABCDEF'
const KEYS = ['a', 'B', 'b', '_', '1', '10', '2', 'é', 'e', 'E', 'z', 'Z', 'ä', 'ß', '😀', '', 'aa', 'a-b', 'a_b']

function str(r) {
  return r.chance(0.5) ? r.pick(TEXT) : r.str('abcXYZ019 -_/é😀\uD800', 0, 12)
}

function message(r, depth = 0) {
  switch (r.int(0, depth > 1 ? 4 : 7)) {
    case 0:
      return r.pick([null, true, false, undefined])
    case 1:
      return r.pick([0, -0, 1, 42, 1.5, 0.1 + 0.2, 1e21, 1e-7, -3])
    case 2:
    case 3:
      return str(r)
    case 4:
      return new Date(Date.UTC(2020 + r.int(0, 5), r.int(0, 11), r.int(1, 28), r.int(0, 23), r.int(0, 59), r.int(0, 59), r.int(0, 999)))
    case 5:
      return Array.from({ length: r.int(0, 3) }, () => message(r, depth + 1))
    default: {
      const o = {}
      for (let i = r.int(0, 5); i > 0; i--) o[r.pick(KEYS)] = message(r, depth + 1)
      return o
    }
  }
}

export function generate(seed, { only } = {}) {
  const r = rng(seed)
  const cases = []
  const push = (capability, op, input) => {
    if (only && !only.includes(capability)) return
    cases.push({ id: `s${seed}-${cases.length}`, capability, op, input: enc(input) })
  }
  const signInput = () => ({
    method: r.pick(METHODS),
    path: r.chance(0.7) ? r.pick(PATHS) : '/' + r.str('abc/?=&%é. ', 0, 10),
    // Typed number; a string is a kept difference (docs/compat.md), so rare.
    timestamp: r.chance(0.05) ? r.pick(['0', '', 'x', '1e3']) : r.chance(0.6) ? r.int(1_600_000_000_000, 1_900_000_000_000) : r.pick([0, -0, -1, 1.5, 1e21, 2 ** 53 + 2, NaN, Infinity, -Infinity, 1e-7]),
    nonce: r.chance(0.7) ? r.str('0123456789abcdef', 32, 32) : str(r),
    body: str(r),
  })
  for (let i = 0; i < 40; i++) push('http', 'buildSigningPayload', signInput())
  for (let i = 0; i < 60; i++) push('http', 'signRequest', { ...signInput(), secret: r.chance(0.8) ? r.str('abcdef0123456789', 16, 64) : str(r) })
  for (let i = 0; i < 25; i++) push('hash', 'hashClientSecret', { secret: str(r), secretToken: r.pick([undefined, null, '', 'pepper', str(r)]) })
  for (let i = 0; i < 20; i++) push('hash', 'hashBody', { body: str(r) })
  for (let i = 0; i < 25; i++) {
    const a = r.str(HEX, 0, 8)
    push('hash', 'safeEqualHex', { a, b: r.chance(0.4) ? a : r.chance(0.5) ? a.toLowerCase() : r.str(HEX + 'xyz', 0, 8) })
  }
  const clientId = () => (r.chance(0.8) ? r.pick(['orders', 'billing', ' padded ', 'é-client']) : r.pick(['', '   ', 'a\uD800', '\t', '\uFEFFbom\uFEFF', 'nel\u0085', '\u00a0nbsp\u2003', '\u2028ls', '\u180emvs']))
  for (let i = 0; i < 15; i++) push('message', 'buildMessageSigningPayload', { clientId: clientId(), messageHash: r.str('0123456789abcdef', 0, 64) })
  for (let i = 0; i < 60; i++) {
    const input = { clientId: clientId(), secret: r.chance(0.9) ? r.str('abcdef0123456789', 8, 40) : r.pick(['', '  ']), message: message(r) }
    if (r.chance(0.3)) input.secretIsHashed = true
    if (r.chance(0.3)) input.hashToken = r.pick(['', 'pepper', 'é'])
    push('message', 'signMessage', input)
  }
  for (let i = 0; i < 30; i++) {
    const input = { clientId: clientId(), secret: r.str('abcdef0123456789', 8, 40), message: message(r) }
    input.signature = r.pick(['', 'zz', r.str('0123456789abcdef', 64, 64), 'sign'])
    push('message', 'verifyMessage', input)
  }
  // verifyHttpSignature over a fake Redis client (node-redis or ioredis style) that records
  // every command: the stored record, headers, skew, IP allow-lists, replays.
  const SECRET_HASH = r.str('0123456789abcdef', 64, 64)
  const IPS = ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32', '::ffff:198.51.100.1', 'bad-rule', '192.168.1.1/33']
  for (let i = 0; i < 90; i++) {
    const now = 1_700_000_000_000 + r.int(0, 1_000_000)
    const ts = r.chance(0.85) ? now - r.int(-5000, 5000) : r.pick([now - 400_000, now + 301_000, 0])
    const nonce = r.chance(0.9) ? r.str('0123456789abcdef', 32, 32) : r.pick(['', ' spaced '])
    let record
    switch (r.int(0, 9)) {
      case 0:
        record = null
        break
      case 1:
        record = ''
        break
      case 2:
        record = SECRET_HASH // legacy: the hash alone
        break
      case 3:
        record = '{"secretHash":5}'
        break
      default: {
        const rec = { secretHash: SECRET_HASH, createdAt: 1, updatedAt: 2, expiresAt: r.pick([null, null, now + 1000, now - 1]) }
        if (r.chance(0.4)) rec.allowedIps = Array.from({ length: r.int(1, 2) }, () => r.pick(IPS))
        record = JSON.stringify(rec)
      }
    }
    const headers = {
      'x-client-id': r.chance(0.08) ? '' : r.pick(['orders', ' orders ', 'orders']),
      'x-signature': r.chance(0.75) ? 'valid' : r.pick(['', 'deadbeef', 'VALID-UPPER', 'f'.repeat(64)]),
      'x-timestamp': r.chance(0.9) ? String(ts) : r.pick(['', 'abc', ' 0x10 ', '1e3']),
      'x-nonce': nonce,
    }
    if (r.chance(0.1)) delete headers[r.pick(Object.keys(headers))]
    if (r.chance(0.3)) headers['X-Forwarded-For'] = r.pick(['203.0.113.7', '198.51.100.1, 10.0.0.1', 'garbage', '[2001:db8::1]:443'])
    const input = {
      method: r.pick(['post', 'GET']),
      path: r.pick(['/api/orders?x=1', '/a b', 'http://h/x/../y', '/']),
      headers,
      rawBody: r.pick(['', '{"a":1}', 'é', null]),
      now,
      record,
      style: r.pick(['node-redis', 'ioredis']),
      replay: r.chance(0.2),
    }
    if (r.chance(0.5)) input.maxSkewMs = r.pick([1000, 300000, 0, 5000, 90_000])
    if (r.chance(0.2)) input.namespace = r.pick(['tenant-a', ' spaced ', 'hmacauth'])
    if (r.chance(0.3)) input.metadata = r.pick([{ ip: '10.1.2.3' }, { ips: ['bad', '203.0.113.7'] }, { remoteAddress: '::ffff:203.0.113.7' }, { forwardedFor: '2001:db8::5' }])
    push('verify', 'verifyHttpSignature', input)
  }
  // Store-backed scenarios (lifecycle.mjs): clients.* and the message track's store calls,
  // and the Express-style middlewares.
  for (let i = 0; i < 60; i++) push('clients', 'clients.scenario', clientsCase(r))
  for (let i = 0; i < 50; i++) push('middleware', 'middleware.scenario', middlewareCase(r))
  return cases
}
