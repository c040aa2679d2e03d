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

// bcryptjs rejects with a plain Error carrying its own message; the core keeps that
// message (code PASSWORD_BCRYPTJS_ERROR), so the rejection is rebuilt as bcryptjs's.
function asBcryptjsError(e) {
  if (e && e.code === 'PASSWORD_BCRYPTJS_ERROR') return new Error(e.message)
  return e
}

/**
 * bcryptjs `hash(password, saltOrRounds)`, rule for rule (core `password::bcryptjs`):
 * a number is a cost (falsy = 10, clamped to 4..31, a fractional cost inside the range
 * rejects with `Missing salt rounds`), a string a salt (its version and cost are kept).
 */
async function bcryptjsHash(password, salt) {
  if (typeof password !== 'string' || (typeof salt !== 'number' && typeof salt !== 'string')) {
    throw illegal(password, salt)
  }
  try {
    return await native.bcryptjsHash(password, salt)
  } catch (e) {
    throw asBcryptjsError(e)
  }
}

/** bcryptjs `compare(password, hash)`, rule for rule. */
async function bcryptjsCompare(password, hash) {
  if (typeof password !== 'string' || typeof hash !== 'string') throw illegal(password, hash)
  try {
    return await native.bcryptjsCompare(password, hash)
  } catch (e) {
    throw asBcryptjsError(e)
  }
}

/**
 * awesome-node-auth's `PasswordService`: `hash(password, saltRounds = 12)` is bcryptjs's
 * `hash`, `compare(password, hash)` bcryptjs's `compare` (same costs, salts, encodings,
 * results and rejection messages). Both are async and run on the libuv thread pool
 * (bcryptjs runs on the main thread). `compare` also accepts argon2id PHC strings, so a
 * user base can move to argon2id through `verifyAndUpgrade`.
 */
class PasswordService {
  async hash(password, saltRounds = 12) {
    return bcryptjsHash(password, saltRounds)
  }

  async compare(password, hash) {
    if (typeof password !== 'string' || typeof hash !== 'string') throw illegal(password, hash)
    if (native.passwordIdentify(hash) === 'argon2id') {
      try {
        return await native.passwordVerify(password, hash)
      } catch (e) {
        // Not a well-formed argon2id string after all: answer as bcryptjs does.
        if (e?.code !== 'PASSWORD_INVALID_HASH') throw e
      }
    }
    return bcryptjsCompare(password, hash)
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

module.exports = { PasswordService, passwordHasher: hasher, bcryptjsHash, bcryptjsCompare }
