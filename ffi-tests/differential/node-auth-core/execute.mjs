// Runs one node-auth-core case against a side (awesome-node-auth's dist, or
// @authcore/node-auth-core: the same export names) and reduces what it observed to JSON:
// the value or the error (class, name, code, status, message), and the effects: cookies
// set/cleared, store calls, middleware responses. Random parts (fresh salts, CSRF values,
// ephemeral keys, TOTP secrets) are reduced to their shape; everything else is compared
// byte for byte.
import crypto from 'node:crypto'
import http from 'node:http'
import { dec, enc } from './codec.mjs'

export const FROZEN_MS = 1_700_000_000_123

function frozen(fn) {
  const real = Date.now
  Date.now = () => FROZEN_MS
  try {
    return fn()
  } finally {
    Date.now = real
  }
}

function errorOf(e) {
  if (!(e instanceof Error)) return { thrown: enc(e) }
  const o = { class: e.constructor?.name, name: e.name, message: e.message }
  if (e.code !== undefined) o.code = e.code
  if (e.statusCode !== undefined) o.statusCode = e.statusCode
  return o
}

function b64json(part) {
  const text = Buffer.from(part, 'base64url').toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    return { $text: text }
  }
}

/** A JWT as `{header, payload}` (key order kept) and whether it has a signature. */
function decodeJwt(t) {
  if (typeof t !== 'string') return { $notAToken: enc(t) }
  const [h, p, s] = t.split('.')
  return { header: b64json(h), payload: b64json(p), signed: !!s }
}

function bcryptShape(h) {
  if (typeof h !== 'string') return enc(h)
  return { prefix: h.slice(0, 7), length: h.length, alphabet: /^[./A-Za-z0-9]*$/.test(h.slice(7).replace('$', '')) }
}

// RFC 6238 (SHA-1, 6 digits, 30 s) for the `$totpNow` inputs, independent of both sides.
function base32Decode(s) {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0
  let value = 0
  const out = []
  for (const c of s.toUpperCase().replace(/=+$/, '')) {
    const i = A.indexOf(c)
    if (i < 0) continue
    value = (value << 5) | i
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

function totpCode(secret, stepOffset) {
  const step = Math.floor(Date.now() / 1000 / 30) + stepOffset
  const msg = Buffer.alloc(8)
  msg.writeBigUInt64BE(BigInt(step))
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest()
  const off = mac[mac.length - 1] & 0xf
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000
  return String(n).padStart(6, '0')
}

function cookieRes(effects) {
  return {
    cookie(name, value, opts) {
      const v = /^[0-9a-f]{32}$/.test(value) && name.includes('csrf') ? '<hex32>' : value
      effects.push(['cookie', name, v, enc(opts)])
    },
    clearCookie(name, opts) {
      effects.push(['clearCookie', name, enc(opts)])
    },
  }
}

function apiKeyStore(spec, effects) {
  const fail = (m) => {
    if (spec.throwOn === m) throw new Error(`store ${m} failed`)
  }
  return {
    async save() {},
    async findByPrefix(prefix) {
      effects.push(['findByPrefix', prefix])
      fail('findByPrefix')
      return spec.records.find((r) => r.keyPrefix === prefix) ?? null
    },
    async updateLastUsed(id, at) {
      effects.push(['updateLastUsed', id, at instanceof Date ? '<Date>' : enc(at)])
      fail('updateLastUsed')
    },
    async logUsage(entry) {
      effects.push(['logUsage', enc({ ...entry, timestamp: entry.timestamp instanceof Date ? '<Date>' : entry.timestamp })])
      fail('logUsage')
    },
  }
}

function jwksClient(doc, effects) {
  return {
    async getKey(kid) {
      effects.push(['getKey', enc(kid)])
      return doc.keys.find((k) => k.kid === kid) ?? null
    },
    invalidateCache() {
      effects.push(['invalidateCache'])
    },
  }
}

function shapeRecord(rec) {
  const o = {}
  for (const [k, v] of Object.entries(rec)) {
    if (k === 'id') o[k] = /^[0-9a-f-]{36}$/.test(v) ? '<uuid>' : v
    else if (k === 'keyHash') o[k] = bcryptShape(v)
    else if (k === 'keyPrefix') o[k] = /^ak_[0-9a-f]{8}$/.test(v) ? '<ak_hex8>' : v
    else if (k === 'createdAt') o[k] = v instanceof Date ? '<Date>' : enc(v)
    else o[k] = enc(v)
  }
  return o
}

const OPS = {
  'jwks.derivePublicKey'(api, i) {
    return api.JwksService.derivePublicKey(i.privateKey)
  },
  'jwks.publicKeyToJwk'(api, i) {
    return api.JwksService.publicKeyToJwk(i.publicKey, i.kid)
  },
  'jwks.buildJwksDocument'(api, i) {
    return i.kid === undefined ? api.JwksService.buildJwksDocument(i.publicKey) : api.JwksService.buildJwksDocument(i.publicKey, i.kid)
  },
  'jwks.jwkToPublicKey'(api, i) {
    return api.JwksService.jwkToPublicKey(i.jwk)
  },
  async 'jwks.client'(api, i, effects) {
    // A real HTTP server on 127.0.0.1 serving one canned answer; the client asks twice
    // (the second answer must come from its cache: one request).
    const server = http.createServer((req, res) => {
      effects.push(['request', req.method, req.url])
      res.writeHead(i.status, { 'content-type': 'application/json' })
      res.end(i.body)
    })
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    try {
      const client = new api.JwksClient(`http://127.0.0.1:${server.address().port}/jwks.json`, i.options)
      const first = await client.getKey(i.kid)
      const second = await client.getKey(i.kid)
      return { first, second }
    } finally {
      server.closeAllConnections?.()
      await new Promise((r) => server.close(r))
    }
  },
  async 'totp.enableDisable'(api, i, effects) {
    const store = {
      async updateTotpSecret(id, s) {
        effects.push(['updateTotpSecret', id, s])
      },
    }
    const t = new api.TotpStrategy()
    await t.enable(i.userId, i.secret, store)
    await t.disable(i.userId, store)
  },
  async 'password.hash_rounds'(api, i) {
    const svc = new api.PasswordService()
    const h = await svc.hash(i.password, i.rounds)
    return { ...bcryptShape(h), roundTrip: await svc.compare(i.password, h) }
  },
  async 'password.hash_salt'(api, i) {
    return new api.PasswordService().hash(i.password, i.salt)
  },
  async 'password.compare'(api, i) {
    return new api.PasswordService().compare(i.password, i.hash)
  },
  'token.generateTokenPair'(api, i) {
    const p = frozen(() => new api.TokenService().generateTokenPair(i.payload, i.config))
    return { accessToken: decodeJwt(p.accessToken), refreshToken: decodeJwt(p.refreshToken) }
  },
  'token.verifyAccessToken'(api, i) {
    return new api.TokenService().verifyAccessToken(i.token, i.config)
  },
  'token.verifyRefreshToken'(api, i) {
    return new api.TokenService().verifyRefreshToken(i.token, i.config)
  },
  'token.generateIdProviderTokenPair'(api, i, effects) {
    const before = i.config.idProvider ? { ...i.config.idProvider } : undefined
    const p = frozen(() => new api.TokenService().generateIdProviderTokenPair(i.payload, i.config))
    const idp = i.config.idProvider
    let pk = 'missing'
    if (idp.publicKey && before?.publicKey === idp.publicKey) pk = 'unchanged'
    else if (idp.publicKey) {
      const derived = crypto.createPublicKey(idp.privateKey).export({ type: 'spki', format: 'pem' })
      pk = derived === idp.publicKey ? 'derived-spki' : 'other'
    }
    effects.push(['config.idProvider.publicKey', pk])
    const out = {}
    for (const k of ['accessToken', 'refreshToken']) {
      const d = decodeJwt(p[k])
      d.verifies = crypto.verify('RSA-SHA256', Buffer.from(p[k].split('.').slice(0, 2).join('.')), idp.publicKey, Buffer.from(p[k].split('.')[2], 'base64url'))
      out[k] = d
    }
    return out
  },
  async 'token.verifyWithJwks'(api, i, effects) {
    return new api.TokenService().verifyWithJwks(i.token, jwksClient(i.jwks, effects), i.expectedIssuer)
  },
  'cookies.set'(api, i, effects) {
    new api.TokenService().setTokenCookies(cookieRes(effects), i.tokens, i.config)
  },
  'cookies.clear'(api, i, effects) {
    new api.TokenService().clearTokenCookies(cookieRes(effects), i.config)
  },
  'cookies.initCsrf'(api, i, effects) {
    new api.TokenService().initCsrfToken(cookieRes(effects), i.config)
  },
  'cookies.extract'(api, i) {
    return new api.TokenService().extractTokenFromCookie(i.req, i.name)
  },
  async 'totp.verify'(api, i) {
    const token = i.token && typeof i.token === 'object' && '$totpNow' in i.token ? totpCode(i.secret, i.token.$totpNow) : i.token
    return new api.TotpStrategy().verify(token, i.secret)
  },
  async 'totp.generateSecret'(api, i) {
    const g = new api.TotpStrategy().generateSecret(i.email, i.appName)
    const qr = await g.qrCode
    return {
      secret: /^[A-Z2-7]{32}$/.test(g.secret) ? '<base32-32>' : g.secret,
      otpauthUrl: g.otpauthUrl.replace(g.secret, '<S>'),
      qrCode: qr.slice(0, 22),
      keys: Object.keys(g),
    }
  },
  async 'apikey.authenticate'(api, i, effects) {
    const store = apiKeyStore(i.store, effects)
    return new api.ApiKeyStrategy(store, i.options).authenticate(i.headers, i.remoteIp)
  },
  async 'apikey.middleware'(api, i, effects) {
    const store = apiKeyStore(i.store, effects)
    const mw = api.createApiKeyMiddleware(store, i.options)
    const req = { headers: i.headers, ip: i.remoteIp }
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('middleware never answered')), 5000)
      const done = () => {
        clearTimeout(timer)
        resolve()
      }
      const res = {
        status(c) {
          effects.push(['status', c])
          return res
        },
        json(b) {
          effects.push(['json', enc(b)])
          done()
          return res
        },
      }
      mw(req, res, (...args) => {
        effects.push(['next', ...args.map((a) => (a instanceof Error ? errorOf(a) : enc(a)))])
        done()
      })
    })
    return enc(req.apiKey)
  },
  async 'apikey.createKey'(api, i, effects) {
    const store = {
      async save(rec) {
        effects.push(['save', shapeRecord(rec)])
      },
    }
    const { rawKey, record } = await new api.ApiKeyService(i.saltRounds).createKey(store, i.options)
    return { rawKey: /^ak_[0-9a-f]{48}$/.test(rawKey) ? '<ak_hex48>' : rawKey, record: shapeRecord(record), prefixMatches: record.keyPrefix === rawKey.slice(0, 11), hashMatches: await new api.ApiKeyService().verifyKey(rawKey, record.keyHash) }
  },
  async 'apikey.verifyKey'(api, i) {
    return new api.ApiKeyService().verifyKey(i.rawKey, i.hash)
  },
}

export const OP_NAMES = Object.keys(OPS)

/** `{ok}` or `{error}`, plus `effects` when the op has any; JSON-encoded. */
export async function execute(api, kase) {
  const op = OPS[kase.op]
  if (!op) throw new Error(`unknown op ${kase.op}`)
  const input = dec(kase.input)
  const effects = []
  const out = {}
  try {
    out.ok = enc(await op(api, input, effects))
  } catch (e) {
    out.error = errorOf(e)
  }
  if (effects.length) out.effects = effects
  return out
}
