'use strict'
const native = require('./native')

let sharedHasher = null
function hasher() {
  if (!sharedHasher) sharedHasher = native.createPasswordHasher()
  return sharedHasher
}

function illegal(a, b) {
  return new Error(`Illegal arguments: ${typeof a}, ${typeof b}`)
}

/**
 * awesome-node-auth's `PasswordService`: `hash(password, saltRounds = 12)` gives a bcryptjs
 * `$2b$` hash, `compare(password, hash)` checks it. Both are async and run on the libuv
 * thread pool (bcryptjs runs on the main thread). `compare` also accepts argon2id PHC
 * strings, so a user base can move to argon2id through `verifyAndUpgrade`.
 */
class PasswordService {
  async hash(password, saltRounds = 12) {
    if (typeof password !== 'string') throw illegal(password, saltRounds)
    if (typeof saltRounds === 'string') return native.bcryptHashWithSalt(password, saltRounds)
    if (typeof saltRounds !== 'number') throw illegal(password, saltRounds)
    return native.bcryptHash(password, saltRounds)
  }

  async compare(password, hash) {
    if (typeof password !== 'string' || typeof hash !== 'string') throw illegal(password, hash)
    const kind = native.identifyPasswordHash(hash)
    if (kind === 'argon2id') return native.passwordVerify(password, hash)
    // bcryptjs answers false for a string that cannot be a bcrypt hash.
    if (hash.length !== 60) return false
    return native.bcryptVerify(password, hash)
  }

  /** argon2id (OWASP m=19456 KiB, t=2, p=1) PHC hash of a new password. */
  async hashArgon2(password) {
    if (typeof password !== 'string') throw illegal(password, undefined)
    return (await hasher()).hash(password)
  }

  /**
   * Login check with migration: `hash` is the stored hash, or `null`/`undefined` for an
   * unknown user (an argon2id dummy is verified, so the answer costs the same and reveals
   * nothing). On success with a bcrypt or outdated hash, `rehash` is the argon2id hash to
   * store.
   */
  async verifyAndUpgrade(password, hash) {
    if (typeof password !== 'string') throw illegal(password, hash)
    return (await hasher()).verifyAndUpgrade(password, hash ?? null)
  }

  /** Does the stored hash need replacing with argon2id at the OWASP parameters? */
  needsRehash(hash) {
    return native.passwordNeedsRehash(hash)
  }
}

module.exports = { PasswordService, passwordHasher: hasher }
