'use strict'
const qrcode = require('qrcode')
const native = require('./native')

const REPLAY_CACHE_MAX = 10_000

/**
 * awesome-node-auth's `TotpStrategy` (otplib defaults: SHA-1, 6 digits, 30 s, base32
 * secrets of 20 bytes). Differences, all in docs/compat.md:
 * - a malformed code (wrong length, non-digits) verifies `false` instead of throwing
 *   (node-auth's router turned the throw into a 500);
 * - a drift window of ±1 step by default (`new TotpStrategy({window: 0})` restores the
 *   original's current-step-only check);
 * - replay protection: within this process a code is accepted once (`verify` remembers
 *   the last accepted step per secret); `verifyDetailed` returns the step for callers that
 *   persist `lastUsedStep` across processes.
 */
class TotpStrategy {
  constructor(options = {}) {
    this.window = options.window ?? 1
    this.replayProtection = options.replayProtection !== false
    this.lastSteps = new Map()
  }

  generateSecret(email, appName = 'awesome-node-auth') {
    const { secret, otpauthUrl } = native.totpGenerateSecretFor(email, appName)
    const qrCode = qrcode.toDataURL(otpauthUrl)
    return { secret, otpauthUrl, qrCode }
  }

  async verify(token, secret) {
    return this.verifyDetailed(token, secret).valid
  }

  /**
   * `{valid, step?, code?}`: `step` is the accepted time step (store it as
   * `lastUsedStep`), `code` the core's reason on rejection (`TOTP_MALFORMED_CODE`,
   * `TOTP_INVALID_CODE`, `TOTP_REPLAYED`, `TOTP_INVALID_SECRET`, ...).
   */
  verifyDetailed(token, secret, options = {}) {
    if (typeof token !== 'string' || typeof secret !== 'string') {
      return { valid: false, code: 'TOTP_MALFORMED_CODE' }
    }
    const key = this.replayProtection ? native.hashApiToken(secret) : null
    const remembered = key === null ? undefined : this.lastSteps.get(key)
    const last = Math.max(options.lastUsedStep ?? -1, remembered ?? -1)
    try {
      const step = native.totpVerify(token, secret, {
        window: options.window ?? this.window,
        now: options.now,
        lastUsedStep: last >= 0 ? last : undefined,
      })
      if (key !== null) this.remember(key, step)
      return { valid: true, step }
    } catch (e) {
      if (typeof e?.code === 'string' && e.code.startsWith('TOTP_')) return { valid: false, code: e.code }
      throw e
    }
  }

  remember(key, step) {
    this.lastSteps.delete(key)
    if (this.lastSteps.size >= REPLAY_CACHE_MAX) this.lastSteps.delete(this.lastSteps.keys().next().value)
    this.lastSteps.set(key, step)
  }

  async enable(userId, secret, userStore) {
    await userStore.updateTotpSecret(userId, secret)
  }

  async disable(userId, userStore) {
    await userStore.updateTotpSecret(userId, null)
  }
}

module.exports = { TotpStrategy }
