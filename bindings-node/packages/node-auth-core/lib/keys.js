'use strict'
// Parsed-key caches: a secret or PEM is parsed once into a native KeySet and reused
// (jsonwebtoken re-imports the key on every call, ~1 ms for a string secret).
const native = require('./native')

const MAX = 64

function lruGet(map, key, make) {
  let v = map.get(key)
  if (v !== undefined) return v
  v = make()
  if (map.size >= MAX) map.delete(map.keys().next().value)
  map.set(key, v)
  return v
}

const hmacSets = new Map()

/** Node-compatible HMAC key set for a secret (signs HS256, verifies HS256/384/512). */
function hmacKeySet(secret) {
  if (typeof secret === 'string') {
    return lruGet(hmacSets, secret, () => {
      const ks = new native.KeySet()
      ks.addHmac(secret)
      return ks
    })
  }
  if (Buffer.isBuffer(secret) || secret instanceof Uint8Array) {
    const ks = new native.KeySet()
    ks.addHmac(Buffer.from(secret))
    return ks
  }
  throw new TypeError('secretOrPrivateKey must be a string or a Buffer')
}

const pemSets = new Map()

/** Key set holding one PEM key (private: signs; public: verifies), with an optional kid. */
function pemKeySet(pem, kid, alg) {
  return lruGet(pemSets, `${alg || ''}\u0000${kid || ''}\u0000${pem}`, () => {
    const ks = new native.KeySet()
    ks.addPem(pem, { kid: kid || undefined, alg: alg || undefined })
    return ks
  })
}

const jwkSets = new Map()

/**
 * Verification key set for one public JWK, cached by content. An RSA JWK verifies RS256
 * whatever its `alg`/`use` say: node-auth turns the JWK into a PEM (ignoring both) and
 * verifies with `algorithms: ['RS256']`.
 */
function jwkKeySet(jwk) {
  const usable = jwk.kty === 'RSA' ? { kty: 'RSA', alg: 'RS256', n: jwk.n, e: jwk.e } : (({ kid, ...rest }) => rest)(jwk)
  const text = JSON.stringify(usable)
  return lruGet(jwkSets, text, () => {
    const ks = new native.KeySet()
    ks.addJwk(text)
    return ks
  })
}

module.exports = { hmacKeySet, pemKeySet, jwkKeySet }
