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

/**
 * The body jsonwebtoken 9 would sign for `jwt.sign(claims, key, {expiresIn, issuer})`
 * (claims, then `iat`, then `exp`, then `iss`), plus our `token_use` marker placed before
 * `iat`. Returned as the exact JSON text.
 */
function body(claims, use, expiresIn, issuer) {
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new Error('Expected "payload" to be a plain object.')
  }
  const b = Object.assign({}, claims)
  const ts = typeof b.iat === 'number' ? b.iat : nowSeconds()
  b.token_use = use
  b.iat = ts
  b.exp = expiryOf(expiresIn, ts)
  if (issuer !== undefined) b.iss = issuer
  return JSON.stringify(b)
}

function stripTimes(payload) {
  // Like node-auth: the caller's iat/exp never reach the new tokens.
  const { iat, exp, ...claims } = payload || {}
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
    const accessToken = hmacKeySet(config.accessTokenSecret).sign(
      body(claims, 'access', config.accessTokenExpiresIn ?? '15m'),
    )
    const refreshToken = hmacKeySet(config.refreshTokenSecret).sign(
      body(claims, 'refresh', config.refreshTokenExpiresIn ?? '7d'),
    )
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
    return hmacKeySet(config.accessTokenSecret).sign(body(stripTimes(payload), 'mfa_pending', expiresIn))
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
    if (!idp || !(idp.privateKey || idp.enabled === true)) {
      throw new AuthError('Identity provider mode is not enabled', 'IDP_NOT_ENABLED', 500)
    }
    if (!idp.privateKey) {
      const pair = native.generateRsaKeypairSync(2048)
      idp.privateKey = pair.privateKey
      idp.publicKey = pair.publicKey
      if (!warnedEphemeral) {
        warnedEphemeral = true
        console.warn(
          '[awesome-node-auth] idProvider.enabled without a privateKey: generated an ephemeral RSA keypair. ' +
            'Tokens will not verify after a restart; configure idProvider.privateKey.',
        )
      }
    }
    const keys = pemKeySet(idp.privateKey, DEFAULT_KID, 'RS256')
    const claims = stripTimes(payload)
    const accessToken = keys.sign(body(claims, 'access', idp.tokenExpiry ?? '30d', idp.issuer))
    const refreshToken = keys.sign(
      body(claims, 'refresh', idp.refreshTokenExpiry ?? config.refreshTokenExpiresIn ?? '90d', idp.issuer),
    )
    return { accessToken, refreshToken }
  }

  /**
   * Verify an RS256 token against a `JwksClient`. Parsed keys are cached per JWK (no PEM
   * conversion per request); an unknown kid forces at most one JWKS re-fetch per 30 s per
   * client. `expectedAudience` is an addition (node-auth never checked `aud`).
   */
  async verifyWithJwks(token, client, expectedIssuer, expectedAudience) {
    const fail = (cause) =>
      withCause(new AuthError('Invalid or expired token', 'INVALID_TOKEN', 401), cause)
    let header
    try {
      header = JSON.parse(native.decodeJwt(String(token)).header)
    } catch (e) {
      throw fail(e)
    }
    if (typeof header.kid !== 'string' || header.kid === '') throw fail(new Error('missing kid'))
    let jwk
    try {
      jwk = await client.getKey(header.kid)
      if (!jwk) {
        const last = lastForcedRefresh.get(client) ?? 0
        if (Date.now() - last >= FORCED_REFRESH_INTERVAL_MS) {
          lastForcedRefresh.set(client, Date.now())
          client.invalidateCache()
          jwk = await client.getKey(header.kid)
        }
      }
    } catch (e) {
      throw fail(e)
    }
    if (!jwk) throw fail(new Error(`unknown kid ${header.kid}`))
    try {
      if (jwk.kty !== 'RSA') throw new Error('only RS256 keys are accepted')
      const opts = { lenientTokenUse: 'access' }
      if (expectedIssuer) opts.issuer = [expectedIssuer]
      if (expectedAudience) opts.audience = Array.isArray(expectedAudience) ? expectedAudience : [expectedAudience]
      return JSON.parse(jwkKeySet(jwk).verify(token, opts))
    } catch (e) {
      throw fail(e)
    }
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
    if (name.startsWith('__Host-')) delete opts.domain
    else opts.domain = co?.domain
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
