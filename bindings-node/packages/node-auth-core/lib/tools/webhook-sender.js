'use strict'
// WebhookSender of awesome-node-auth 1.9.0 (src/tools/webhook-sender.ts): `sha256=` HMAC
// signatures and outgoing delivery. The delivery policy (headers, one delivery id for every
// attempt, which responses are retried, backoff with jitter, timeout, refused addresses) is
// the core's (authcore::events::webhook); the transport is the host's global fetch.
const dns = require('node:dns')
const net = require('node:net')
const native = require('../native')

class WebhookSender {
  #options

  // options: {allowInternalUrls?, timeoutMs?, maxRetriesCap?}: see docs/compat.md.
  constructor(options = {}) {
    this.#options = options
  }

  sign(body, secret) {
    return native.webhookSign(String(body), String(secret))
  }

  verify(body, secret, signature) {
    return native.webhookVerify(String(body), String(secret), String(signature))
  }

  // Never rejects: failures are given up on silently, as the original's.
  async send(config, event) {
    try {
      await this.deliver(config, event)
    } catch {
      // refused or failed: nothing to report (the original logs nothing either)
    }
  }

  // As send, but resolves to the outcome {ok, attempts, status?, deliveryId, error?} and
  // rejects when the policy refuses the URL.
  async deliver(config, event) {
    const body = JSON.stringify(event)
    const plan = native.webhookPlan(
      {
        url: String(config.url),
        secret: config.secret ?? undefined,
        maxRetries: config.maxRetries ?? undefined,
        retryDelayMs: config.retryDelayMs ?? undefined,
        allowInternal: this.#options.allowInternalUrls === true,
        timeoutMs: this.#options.timeoutMs ?? undefined,
      },
      String(event?.event),
      String(event?.timestamp),
      body,
    )
    const headers = Object.fromEntries(plan.headers)
    // A host name is checked again on the addresses it resolves to.
    if (!plan.allowInternal && net.isIP(plan.host.replace(/^\[|\]$/g, '')) === 0) {
      let addrs = null
      try {
        addrs = await dns.promises.lookup(plan.host, { all: true })
      } catch {
        // unresolvable here: the transport's own lookup fails the same way
      }
      if (addrs) native.webhookCheckResolved(plan, addrs.map((a) => a.address))
    }
    let attempt = 0
    for (;;) {
      let status
      let error
      try {
        const res = await fetch(plan.url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(plan.timeoutMs),
        })
        status = res.status
        try {
          await res.arrayBuffer()
        } catch {
          // body not needed
        }
      } catch (err) {
        error = err
      }
      const next = native.webhookNextDelay(plan, attempt, status ?? null)
      if (next === null || next === undefined) {
        return { ok: status !== undefined && status >= 200 && status < 300, attempts: attempt + 1, status, deliveryId: plan.deliveryId, error: error ? String(error) : undefined }
      }
      attempt++
      await new Promise((r) => setTimeout(r, next))
    }
  }
}

module.exports = { WebhookSender }
