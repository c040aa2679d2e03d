'use strict'
const crypto = require('node:crypto')
const native = require('./native')
const { AuthError, withCause } = require('./errors')
const { expiryOf } = require('./timespan')
const { hmacKeySet, pemKeySet, jwkKeySet } = require('./keys')

const DEFAULT_KID = 'provisioner-key-1'
let warnedEphemeral = false

function nowSeconds() {
  return Math.floor(Date.now() / 1000)
}

const isPlainObject = (v) => {
  if (v === null || typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v)
  return proto === null || proto === Object.prototype
}
const isNumber = (v) => typeof v === 'number' || v instanceof Number

/**
 * The checks `jwt.sign(claims, key, {expiresIn})` of jsonwebtoken 9 makes before signing,
 * in its order and with its messages: the payload's `iat`/`exp`/`nbf` must be numbers,
 * `expiresIn` an integer or a non-empty string that parses as a timespan.
 */
function checkSign(claims, expiresIn) {
  if (!isPlainObject(claims)) throw new Error('Expected "payload" to be a plain object.')
  for (const k of Object.keys(claims)) {
    if ((k === 'iat' || k === 'exp' || k === 'nbf') && !isNumber(claims[k])) {
      throw new Error(`"${k}" should be a number of seconds`)
    }
  }
  if (!(Number.isInteger(expiresIn) || (typeof expiresIn === 'string' && expiresIn))) {
    throw new Error('"expiresIn" should be a number of seconds or string representing a timespan')
  }
}

/**
 * The body jsonwebtoken 9 signs for `jwt.sign(claims, key, {expiresIn})` (claims, then
 * `iat`, then `exp`), plus our `token_use` marker placed before `iat`. Returned as the
 * exact JSON text.
 */
function body(claims, use, expiresIn) {
  checkSign(claims, expiresIn)
  const b = Object.assign({}, claims)
  const ts = b.iat || nowSeconds()
  b.token_use = use
  b.iat = ts
  b.exp = expiryOf(expiresIn, ts)
  return JSON.stringify(b)
}

/**
 * jsonwebtoken's key checks for HS256 signing: a falsy secret, a value that is no key
 * material, or an asymmetric private key are refused with its messages.
 */
function signingKeySet(secret) {
  if (!secret) throw new Error('secretOrPrivateKey must have a value')
  if (typeof secret === 'string') {
    if (secret.includes('-----BEGIN')) {
      let priv = null
      try {
        priv = crypto.createPrivateKey(secret)
      } catch {}
      if (priv) throw new Error('secretOrPrivateKey must be a symmetric key when using HS256')
    }
    return hmacKeySet(secret)
  }
  if (ArrayBuffer.isView(secret)) return hmacKeySet(Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength))
  if (secret instanceof crypto.KeyObject && secret.type === 'secret') return hmacKeySet(secret.export())
  throw new Error('secretOrPrivateKey is not valid key material')
}

function stripTimes(payload) {
  // Like node-auth: the caller's iat/exp never reach the new tokens (and, as there, a
  // null/undefined payload is a TypeError from the destructuring).
  const { iat, exp, ...claims } = payload
  return claims
}

function verifyHs(token, secret, use) {
  if (typeof token !== 'string') throw new TypeError('jwt must be a string')
  return JSON.parse(hmacKeySet(secret).verifyNode(token, use))
}

// Unknown-kid re-fetches are limited per client (node-auth invalidated the JWKS cache on
// every request carrying an unknown kid, so such requests could hammer the IdP).
const lastForcedRefresh = new WeakMap()
const FORCED_REFRESH_INTERVAL_MS = 30_000

/**
 * awesome-node-auth's `TokenService`: same methods, arguments, defaults and
 * synchronous/asynchronous nature; JWTs are signed and verified by the Rust core with keys
 * parsed once and cached.
 *
 * Differences (docs/compat.md): tokens carry a `token_use` claim (`access`, `refresh`,
 * `mfa_pending`) and each verifier refuses the other uses, so a refresh token or a 2FA
 * temp token is never an access token even when secrets are equal (tokens without the
 * claim, issued by node-auth itself, still verify).
 */
class TokenService {
  generateTokenPair(payload, config) {
    const claims = stripTimes(payload)
    const accessKeys = signingKeySet(config.accessTokenSecret)
    const accessToken = accessKeys.sign(body(claims, 'access', config.accessTokenExpiresIn ?? '15m'))
    const refreshKeys = signingKeySet(config.refreshTokenSecret)
    const refreshToken = refreshKeys.sign(body(claims, 'refresh', config.refreshTokenExpiresIn ?? '7d'))
    return { accessToken, refreshToken }
  }

  verifyAccessToken(token, config) {
    try {
      return verifyHs(token, config.accessTokenSecret, 'access')
    } catch (e) {
      throw withCause(new AuthError('Invalid or expired access token', 'INVALID_ACCESS_TOKEN', 401), e)
    }
  }

  verifyRefreshToken(token, config) {
    try {
      return verifyHs(token, config.refreshTokenSecret, 'refresh')
    } catch (e) {
      throw withCause(new AuthError('Invalid or expired refresh token', 'INVALID_REFRESH_TOKEN', 401), e)
    }
  }

  /**
   * The 2FA temp token of `/login` (node-auth: a normal 5-minute access token). Ours is
   * marked `token_use: "mfa_pending"`: `verifyAccessToken` refuses it and only
   * `verifyTempToken` accepts it.
   */
  generateTempToken(payload, config, expiresIn = '5m') {
    return signingKeySet(config.accessTokenSecret).sign(body(stripTimes(payload), 'mfa_pending', expiresIn))
  }

  verifyTempToken(token, config) {
    try {
      if (typeof token !== 'string') throw new TypeError('jwt must be a string')
      return JSON.parse(hmacKeySet(config.accessTokenSecret).verify(token, { tokenUse: 'mfa_pending' }))
    } catch (e) {
      throw withCause(new AuthError('Invalid or expired temporary token', 'INVALID_TOKEN', 401), e)
    }
  }

  /** SHA-256 hex of a refresh token: what a user record should store instead of the token. */
  hashRefreshToken(token) {
    return native.jwtTokenHash(token)
  }

  /**
   * Constant-time check of a presented refresh token against the stored value (its
   * SHA-256 hex, or the plaintext token node-auth stored), never `!==`.
   */
  compareRefreshToken(presented, stored) {
    if (typeof presented !== 'string' || typeof stored !== 'string') return false
    return native.refreshTokenMatches(presented, stored)
  }

  // ---- IdP mode (RS256) ------------------------------------------------------------

  generateIdProviderTokenPair(payload, config) {
    const idp = config.idProvider
    const isActive = !!idp?.privateKey || idp?.enabled === true
    if (!isActive) throw new AuthError('IdP mode is not enabled', 'IDP_NOT_ENABLED', 500)
    if (!idp.privateKey) {
      if (!warnedEphemeral) {
        console.warn(
          '[awesome-node-auth] IdP mode: no privateKey configured — ' +
            'auto-generating an ephemeral RSA keypair. ' +
            'All tokens will be invalidated on restart. ' +
            'Set idProvider.privateKey in production.',
        )
        warnedEphemeral = true
      }
      const pair = native.generateRsaKeypairSync(2048)
      idp.privateKey = pair.privateKey
      idp.publicKey = pair.publicKey
    } else if (!idp.publicKey) {
      // node-auth derives the public key and writes it back into the configuration.
      idp.publicKey = native.rsaPublicPemFromPrivate(idp.privateKey)
    }
    const keys = pemKeySet(idp.privateKey, DEFAULT_KID, 'RS256')
    // `iat`, `exp` and `kid` never reach the payload; `iss` joins the claims (before
    // `iat`/`exp`, jsonwebtoken's order for a claim already in the payload).
    const { iat, exp, kid: _kid, ...claims } = payload
    const idpClaims = { ...claims, ...(idp.issuer ? { iss: idp.issuer } : {}) }
    const accessToken = keys.sign(body(idpClaims, 'access', idp.tokenExpiry ?? '30d'))
    const refreshToken = keys.sign(
      body(idpClaims, 'refresh', idp.refreshTokenExpiry ?? config.refreshTokenExpiresIn ?? '90d'),
    )
    return { accessToken, refreshToken }
  }

  /**
   * Verify an RS256 token against a `JwksClient`. Parsed keys are cached per JWK (no PEM
   * conversion per request); an unknown kid forces at most one JWKS re-fetch per 30 s per
   * client. `expectedAudience` is an addition (node-auth never checked `aud`).
   */
  async verifyWithJwks(token, client, expectedIssuer, expectedAudience) {
    // node-auth's messages: 'Invalid token format', 'Token missing kid header', 'Unknown
    // signing key', 'Token issuer mismatch'; any other failure 'Invalid or expired token'.
    const fail = (message, cause) => withCause(new AuthError(message, 'INVALID_TOKEN', 401), cause)
    let header
    try {
      header = JSON.parse(native.decodeJwt(String(token)).header)
    } catch (e) {
      throw fail('Invalid token format', e)
    }
    const kid = header.kid
    if (!kid) throw fail('Token missing kid header')
    let jwk
    try {
      jwk = await client.getKey(kid)
      if (!jwk) {
        const last = lastForcedRefresh.get(client) ?? 0
        if (Date.now() - last >= FORCED_REFRESH_INTERVAL_MS) {
          lastForcedRefresh.set(client, Date.now())
          client.invalidateCache()
          jwk = await client.getKey(kid)
        }
      }
    } catch (e) {
      throw fail('Invalid or expired token', e)
    }
    if (!jwk) throw fail('Unknown signing key', new Error(`unknown kid ${kid}`))
    let payload
    try {
      if (jwk.kty !== 'RSA') throw new Error('only RS256 keys are accepted')
      const opts = {}
      if (expectedAudience) opts.audience = Array.isArray(expectedAudience) ? expectedAudience : [expectedAudience]
      payload = JSON.parse(jwkKeySet(jwk).verify(token, opts))
    } catch (e) {
      throw fail('Invalid or expired token', e)
    }
    // As in node-auth, the issuer is compared after the signature and time checks; our
    // refusal of refresh / 2FA-pending tokens comes last, so every token node-auth refuses
    // is refused with node-auth's message.
    if (expectedIssuer && payload.iss !== expectedIssuer) throw fail('Token issuer mismatch')
    if (payload.token_use === 'refresh' || payload.token_use === 'mfa_pending') {
      const cause = new Error(`token_use ${payload.token_use} is not an access token`)
      cause.code = 'JWT_WRONG_TOKEN_USE'
      throw fail('Invalid or expired token', cause)
    }
    return payload
  }

  // ---- cookies (pure JS, as in node-auth) --------------------------------------------

  /** Cookie name with the `__Host-` / `__Secure-` prefix the configuration calls for. */
  getCookieName(name, config) {
    const co = config?.cookieOptions
    if (!co?.secure) return name
    const rootPath = !co.path || co.path === '/'
    return rootPath && !co.domain ? `__Host-${name}` : `__Secure-${name}`
  }

  refreshCookiePath(config) {
    return (
      config?.cookieOptions?.refreshTokenPath ?? (config?.apiPrefix ? `${config.apiPrefix}/refresh` : '/auth/refresh')
    )
  }

  cookieOptions(name, config, extra) {
    const co = config?.cookieOptions
    const opts = {
      httpOnly: true,
      secure: co?.secure ?? false,
      sameSite: co?.sameSite ?? 'lax',
      path: co?.path ?? '/',
      ...extra,
    }
    if (name.startsWith('__Host-')) {
      // A __Host- cookie must be Secure, Path=/ and have no Domain, or browsers drop it
      // (this also puts the refresh cookie on Path=/, as node-auth does).
      delete opts.domain
      opts.path = '/'
      opts.secure = true
    } else {
      opts.domain = co?.domain
    }
    return opts
  }

  setTokenCookies(res, tokens, config) {
    const set = (base, value, extra) => {
      const name = this.getCookieName(base, config)
      res.cookie(name, value, this.cookieOptions(name, config, extra))
    }
    set('accessToken', tokens.accessToken, { maxAge: 15 * 60 * 1000 })
    set('refreshToken', tokens.refreshToken, { maxAge: 7 * 24 * 60 * 60 * 1000, path: this.refreshCookiePath(config) })
    if (config?.csrf?.enabled) {
      set('csrf-token', this.generateSecureToken(16), { httpOnly: false, maxAge: 15 * 60 * 1000 })
    }
  }

  initCsrfToken(res, config) {
    if (!config?.csrf?.enabled) return
    const name = this.getCookieName('csrf-token', config)
    const opts = this.cookieOptions(name, config, { httpOnly: false, maxAge: 15 * 60 * 1000 })
    res.cookie(name, this.generateSecureToken(16), opts)
  }

  clearTokenCookies(res, config) {
    const co = config?.cookieOptions
    const clear = (base, extra = {}) => {
      const names = new Set([this.getCookieName(base, config || {}), `__Host-${base}`, `__Secure-${base}`, base])
      for (const name of names) {
        const opts = { secure: co?.secure ?? false, sameSite: co?.sameSite ?? 'lax', path: co?.path ?? '/', ...extra }
        if (name.startsWith('__Host-')) {
          delete opts.domain
          opts.path = '/'
          opts.secure = true
        } else {
          opts.domain = co?.domain
        }
        res.clearCookie(name, opts)
      }
    }
    clear('accessToken')
    clear('refreshToken', { path: this.refreshCookiePath(config) })
    if (config?.csrf?.enabled) clear('csrf-token')
  }

  generateSecureToken(bytes = 32) {
    return crypto.randomBytes(bytes).toString('hex')
  }

  extractTokenFromCookie(req, cookieName) {
    const names = [`__Host-${cookieName}`, `__Secure-${cookieName}`, cookieName]
    const parsed = req?.cookies
    if (parsed) {
      for (const n of names) if (parsed[n]) return parsed[n]
    }
    const header = req?.headers?.cookie
    if (!header) return null
    const jar = {}
    for (const part of header.split(';')) {
      const [k, ...v] = part.trim().split('=')
      if (!k) continue
      try {
        jar[k.trim()] = decodeURIComponent(v.join('='))
      } catch {
        jar[k.trim()] = v.join('=')
      }
    }
    for (const n of names) if (jar[n]) return jar[n]
    return null
  }
}

module.exports = { TokenService, DEFAULT_KID }
