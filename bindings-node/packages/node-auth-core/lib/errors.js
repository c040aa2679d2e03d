'use strict'

/**
 * awesome-node-auth's error class: `new AuthError(message, code, statusCode = 401, data?)`,
 * `name === 'AuthError'`. When a native check caused it, `cause` (non-enumerable, like
 * every Error `cause`) holds the core error, whose `code` says exactly why
 * (`JWT_EXPIRED`, `JWT_WRONG_TOKEN_USE`, ...).
 */
class AuthError extends Error {
  constructor(message, code, statusCode = 401, data) {
    super(message)
    this.code = code
    this.statusCode = statusCode
    this.data = data
    this.name = 'AuthError'
  }
}

function withCause(err, cause) {
  if (cause !== undefined) {
    Object.defineProperty(err, 'cause', { value: cause, enumerable: false, writable: true, configurable: true })
  }
  return err
}

module.exports = { AuthError, withCause }
