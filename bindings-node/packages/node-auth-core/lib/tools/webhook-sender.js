'use strict'
// WebhookSender of awesome-node-auth 1.9.0 (src/tools/webhook-sender.ts): `sha256=` HMAC
// signatures and outgoing delivery. The delivery policy (headers, one delivery id for every
// attempt, which responses are retried, backoff with jitter, timeout, refused addresses) is
// the core's (authcore::events::webhook). The transport is node:http / node:https with a
// connection-time lookup: the addresses a host name resolves to are checked by the core
// inside the lookup the socket connects with, and only those are connected to, so DNS
// rebinding cannot slip an internal address in between a check and the connection.
// (The original used the global fetch; `options.fetch` keeps that shape for applications
// that need it, with the check done just before the request instead.)
const dns = require('node:dns')
const http = require('node:http')
const https = require('node:https')
const net = require('node:net')
const native = require('../native')

// A dns.lookup-compatible function that resolves with `resolve` (dns.lookup by default),
// lets the core check every address, and answers only with the checked ones.
function checkedLookup(plan, resolve) {
  return (hostname, options, callback) => {
    if (typeof options === 'function') {
      callback = options
      options = {}
    }
    const opts = typeof options === 'number' ? { family: options } : { ...(options ?? {}) }
    const wantAll = opts.all === true
    resolve(hostname, { ...opts, all: true }, (err, addrs) => {
      if (err) return callback(err)
      const list = (Array.isArray(addrs) ? addrs : [{ address: addrs, family: net.isIP(addrs) }]).map((a) =>
        typeof a === 'string' ? { address: a, family: net.isIP(a) } : a,
      )
      if (list.length === 0) {
        const e = new Error(`getaddrinfo ENOTFOUND ${hostname}`)
        e.code = 'ENOTFOUND'
        return callback(e)
      }
      try {
        native.webhookCheckResolved(plan, list.map((a) => String(a.address)))
      } catch (e) {
        return callback(e)
      }
      if (wantAll) callback(null, list)
      else callback(null, list[0].address, list[0].family)
    })
  }
}

// One POST over node:http(s): resolves to the status, rejects on a network error, a
// refused address or the timeout (which covers the whole exchange, as AbortSignal.timeout
// on fetch did). Redirects are not followed.
function post(plan, headers, body, lookup) {
  return new Promise((resolve, reject) => {
    const url = new URL(plan.url)
    const mod = url.protocol === 'https:' ? https : http
    let done = false
    const finish = (fn, v) => {
      if (done) return
      done = true
      clearTimeout(timer)
      fn(v)
    }
    const req = mod.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        lookup,
        agent: false,
      },
      (res) => {
        res.on('error', (e) => finish(reject, e))
        res.on('end', () => finish(resolve, res.statusCode))
        res.on('close', () => finish(resolve, res.statusCode))
        res.resume()
      },
    )
    const timer = setTimeout(() => {
      const e = new Error(`webhook attempt timed out after ${plan.timeoutMs} ms`)
      e.name = 'TimeoutError'
      finish(reject, e)
      req.destroy(e)
    }, plan.timeoutMs)
    req.on('error', (e) => finish(reject, e))
    req.end(body)
  })
}

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
    const resolve = typeof this.#options.lookup === 'function' ? this.#options.lookup : dns.lookup
    const customFetch = typeof this.#options.fetch === 'function' ? this.#options.fetch : null
    const lookup = checkedLookup(plan, resolve)
    if (customFetch && !plan.allowInternal && net.isIP(plan.host.replace(/^\[|\]$/g, '')) === 0) {
      // The application's fetch resolves on its own: the check can only come before it.
      await new Promise((ok, fail) => lookup(plan.host, { all: true }, (e) => (e && e.code === 'EVENTS_WEBHOOK_REFUSED' ? fail(e) : ok())))
    }
    let attempt = 0
    for (;;) {
      let status
      let error
      try {
        if (customFetch) {
          const res = await customFetch(plan.url, {
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
        } else {
          status = await post(plan, headers, body, lookup)
        }
      } catch (err) {
        // An address the core refused at connection time ends the delivery, as a refused URL.
        if (err && err.code === 'EVENTS_WEBHOOK_REFUSED') throw err
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
