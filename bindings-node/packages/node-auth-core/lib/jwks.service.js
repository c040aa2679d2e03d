'use strict'
const http = require('node:http')
const https = require('node:https')
const native = require('./native')

const MAX_JWKS_BYTES = 1024 * 1024

/**
 * awesome-node-auth's `JwksClient(url, {cacheTtl = 3_600_000, fetchTimeout = 5000})`:
 * cached, stale-while-revalidate, concurrent fetches coalesced. Differences: the timeout
 * aborts the request, and a document over 1 MiB is refused.
 */
class JwksClient {
  constructor(jwksUrl, options = {}) {
    this.jwksUrl = jwksUrl
    this.cacheTtl = options.cacheTtl ?? 3_600_000
    this.fetchTimeout = options.fetchTimeout ?? 5000
    this.cachedDocument = null
    this.cacheExpiry = 0
    this.fetchPromise = null
  }

  async getJwks() {
    if (this.cachedDocument && Date.now() < this.cacheExpiry) return this.cachedDocument
    if (this.fetchPromise) return this.fetchPromise
    const store = (doc) => {
      this.cachedDocument = doc
      this.cacheExpiry = Date.now() + this.cacheTtl
      this.fetchPromise = null
      return doc
    }
    if (this.cachedDocument) {
      const stale = this.cachedDocument
      this.fetchPromise = this._fetch().then(store, () => {
        this.fetchPromise = null
        return stale
      })
      return stale
    }
    this.fetchPromise = this._fetch().then(store)
    try {
      return await this.fetchPromise
    } catch (err) {
      this.fetchPromise = null
      throw err
    }
  }

  async getKey(kid) {
    const doc = await this.getJwks()
    return doc.keys.find((k) => k.kid === kid) ?? null
  }

  invalidateCache() {
    this.cachedDocument = null
    this.cacheExpiry = 0
    this.fetchPromise = null
  }

  _fetch() {
    return new Promise((resolve, reject) => {
      const url = new URL(this.jwksUrl)
      const transport = url.protocol === 'https:' ? https : http
      const req = transport.get(url, (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          reject(new Error(`JWKS fetch failed with status ${res.statusCode}`))
          return
        }
        const chunks = []
        let size = 0
        res.on('data', (c) => {
          size += c.length
          if (size > MAX_JWKS_BYTES) {
            req.destroy(new Error('JWKS document too large'))
            return
          }
          chunks.push(c)
        })
        res.on('end', () => {
          // node-auth's checks and messages (a `null` document fails inside its JSON try).
          try {
            const doc = JSON.parse(Buffer.concat(chunks).toString('utf8'))
            if (!Array.isArray(doc.keys)) {
              reject(new Error('Invalid JWKS document: missing "keys" array'))
              return
            }
            resolve(doc)
          } catch {
            reject(new Error('Invalid JWKS document: failed to parse JSON'))
          }
        })
        res.on('error', reject)
      })
      req.setTimeout(this.fetchTimeout, () => req.destroy(new Error(`JWKS fetch timed out: ${this.jwksUrl}`)))
      req.on('error', reject)
    })
  }
}

/** awesome-node-auth's `JwksService` (static methods), RSA work done by the Rust core. */
class JwksService {
  /** RSA-2048 key pair as PKCS#8 / SPKI PEM (synchronous, like the original). */
  static generateKeypair() {
    const { privateKey, publicKey } = native.generateRsaKeypairSync(2048)
    return { privateKey, publicKey }
  }

  /** The same on the libuv thread pool (an addition). */
  static async generateKeypairAsync() {
    const { privateKey, publicKey } = await native.generateRsaKeypair(2048)
    return { privateKey, publicKey }
  }

  static derivePublicKey(privateKeyPem) {
    return native.rsaPublicPemFromPrivate(privateKeyPem)
  }

  static publicKeyToJwk(publicKeyPem, kid) {
    // node-auth's object, key order included; `kid` is whatever the caller passed.
    const j = JSON.parse(native.rsaPemToJwk(publicKeyPem, 'kid'))
    return { kty: j.kty, use: 'sig', alg: 'RS256', kid, n: j.n, e: j.e }
  }

  static buildJwksDocument(publicKeyPem, kid = 'provisioner-key-1') {
    return { keys: [JwksService.publicKeyToJwk(publicKeyPem, kid)] }
  }

  static createRemoteClient(jwksUrl, options) {
    return new JwksClient(jwksUrl, options)
  }

  static jwkToPublicKey(jwk) {
    return native.rsaJwkToPublicPem(JSON.stringify(jwk))
  }
}

module.exports = { JwksService, JwksClient }
