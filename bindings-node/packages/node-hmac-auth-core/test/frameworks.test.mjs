// The framework integrations (Fastify plugin, Koa middleware, NestJS guard), each served
// by the real framework on 127.0.0.1 and called over real HTTP with the project's signer
// (buildHttpSignedHeaders): accepted, tampered, replayed, oversized and unsigned requests
// get the original's JSON and status. Then the core's metrics are served through
// prom-client, scraped over HTTP and parsed with a Prometheus text parser: the verify
// counters moved by exactly what the requests did.
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import 'reflect-metadata'
import Fastify from 'fastify'
import Koa from 'koa'
import { Controller, Get, HttpCode, Module, Post, Req } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import promClient from 'prom-client'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { registerAuthcoreMetrics } from '@authcore/native/metrics.js'
import * as core from '@authcore/node-hmac-auth-core'
import hmacFastify from '@authcore/node-hmac-auth-core/fastify'
import { createKoaHmacMiddleware } from '@authcore/node-hmac-auth-core/koa'
import { HmacAuthGuard } from '@authcore/node-hmac-auth-core/nestjs'

const LIMIT = 1024
const BODY = JSON.stringify({ order: 42, note: 'hé' })
const INTERNAL = { error: 'INTERNAL_ERROR', message: 'Internal auth error' }

let seq = 0
async function newAuth() {
  const auth = core.initializeHmacHttpAuth({ redis: 'memory://', namespace: `fw${process.pid}x${++seq}` })
  await auth.clients.setSecret('app_a', 'secret_a')
  return auth
}

function signed(method, url, body, nonce) {
  const headers = core.buildHttpSignedHeaders({ method, url, body: body ?? '', clientId: 'app_a', secret: 'secret_a', nonce })
  if (body !== undefined) headers.set('content-type', 'application/json')
  return headers
}

async function send(method, url, headers, body) {
  const r = await fetch(url, { method, headers, body })
  return [r.status, await r.json(), r.headers.get('content-type')]
}

/** The cases every integration must answer like the original. */
async function checkFramework(base) {
  const url = `${base}/secure/orders?b=2&a=1`
  // accepted: the app sees the verified client and the exact body
  assert.deepEqual((await send('POST', url, signed('POST', url, BODY), BODY)).slice(0, 2), [200, { caller: 'app_a', body: BODY }])
  // replayed
  const once = signed('POST', url, BODY)
  assert.equal((await send('POST', url, once, BODY))[0], 200)
  const [status, json, type] = await send('POST', url, once, BODY)
  assert.deepEqual([status, json], [401, { error: 'REPLAYED_NONCE', message: 'Nonce already used' }])
  assert.match(type, /^application\/json/)
  // tampered: one byte of the body changed after signing
  const tampered = BODY.replace('42', '43')
  assert.deepEqual((await send('POST', url, signed('POST', url, BODY), tampered)).slice(0, 2), [401, { error: 'BAD_SIGNATURE', message: 'Invalid HMAC signature' }])
  // oversized: refused before hashing, answered like any non-auth failure
  const big = JSON.stringify({ pad: 'x'.repeat(LIMIT) })
  assert.deepEqual((await send('POST', url, signed('POST', url, big), big)).slice(0, 2), [500, INTERNAL])
  // at the limit: accepted
  const full = JSON.stringify({ pad: 'y'.repeat(LIMIT - 10) })
  assert.equal(full.length, LIMIT)
  assert.equal((await send('POST', url, signed('POST', url, full), full))[0], 200)
  // unsigned
  assert.deepEqual((await send('GET', `${base}/secure/x`, {})).slice(0, 2), [401, { error: 'MISSING_CLIENT_ID', message: 'Missing header x-client-id' }])
  // a GET without a body, signed over "" (query included)
  const list = `${base}/secure/list?page=2`
  assert.deepEqual((await send('GET', list, signed('GET', list)))[1], { caller: 'app_a', body: '' })
}

function bodyText(raw) {
  return raw === undefined || raw === null ? '' : Buffer.from(raw).toString('utf8')
}

describe('Fastify plugin', () => {
  test('real Fastify server: raw body captured, original errors', async () => {
    const auth = await newAuth()
    const app = Fastify()
    await app.register(async (scope) => {
      await scope.register(hmacFastify, { auth, maxBodyBytes: LIMIT })
      const reply = (req) => ({ caller: req.hmacAuth.clientId, body: bodyText(req.rawBody) })
      scope.post('/secure/orders', reply)
      scope.get('/secure/list', reply)
      scope.get('/secure/x', reply)
    })
    // A second protected scope with its own options (the decorators are shared).
    await app.register(async (scope) => {
      await scope.register(hmacFastify, { auth, attachAuthTo: 'caller' })
      scope.get('/other/y', async (req) => ({ caller: req.caller.clientId }))
    })
    app.get('/public', async () => ({ public: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    after(() => app.close())
    const base = `http://127.0.0.1:${app.server.address().port}`
    await checkFramework(base)
    const other = `${base}/other/y`
    assert.deepEqual((await send('GET', other, signed('GET', other)))[1], { caller: 'app_a' })
    // Outside the protected scope nothing is checked.
    assert.deepEqual(await (await fetch(`${base}/public`)).json(), { public: true })
  })

  test('the plugin refuses an instance that is not an auth instance', async () => {
    const app = Fastify()
    await assert.rejects(app.register(hmacFastify, { auth: {} }).ready(), /initializeHmacHttpAuth/)
  })
})

describe('Koa middleware', () => {
  test('real Koa server', async () => {
    const auth = await newAuth()
    const app = new Koa()
    app.use(createKoaHmacMiddleware({ auth, maxBodyBytes: LIMIT }))
    app.use(async (ctx) => {
      ctx.body = { caller: ctx.state.hmacAuth.clientId, body: bodyText(ctx.request.rawBody) }
    })
    const server = app.listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    after(() => server.close())
    await checkFramework(`http://127.0.0.1:${server.address().port}`)
  })
})

describe('NestJS guard', () => {
  test('real Nest app (Express platform, rawBody: true)', async () => {
    const auth = await newAuth()
    class SecureController {
      orders(req) {
        return { caller: req.hmacAuth.clientId, body: bodyText(req.rawBody) }
      }
      list(req) {
        return this.orders(req)
      }
      x(req) {
        return this.orders(req)
      }
    }
    const route = (decorator, name) => {
      for (const d of [decorator, HttpCode(200)]) d(SecureController.prototype, name, Object.getOwnPropertyDescriptor(SecureController.prototype, name))
      Req()(SecureController.prototype, name, 0)
    }
    route(Post('orders'), 'orders')
    route(Get('list'), 'list')
    route(Get('x'), 'x')
    Controller('secure')(SecureController)
    class AppModule {}
    Module({ controllers: [SecureController] })(AppModule)
    const app = await NestFactory.create(AppModule, { rawBody: true, logger: false })
    app.useGlobalGuards(new HmacAuthGuard({ auth, maxBodyBytes: LIMIT }))
    await app.listen(0, '127.0.0.1')
    after(() => app.close())
    await checkFramework(await app.getUrl())
  })
})

describe('metrics through prom-client', () => {
  test('a scrape over HTTP counts what the requests did', async () => {
    const auth = await newAuth()
    const registry = new promClient.Registry()
    const registered = registerAuthcoreMetrics(registry)
    assert.equal(registered.length, 16)
    assert.throws(() => registerAuthcoreMetrics(registry), /already been registered/)
    const app = Fastify()
    app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()))
    await app.register(async (scope) => {
      await scope.register(hmacFastify, { auth, maxBodyBytes: LIMIT })
      scope.post('/secure/m', async () => ({ ok: true }))
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    after(() => app.close())
    const base = `http://127.0.0.1:${app.server.address().port}`
    const scrape = async () => {
      const r = await fetch(`${base}/metrics`)
      assert.equal(r.status, 200)
      const out = new Map()
      for (const fam of parsePrometheusTextFormat(await r.text())) {
        for (const m of fam.metrics) {
          if (fam.type === 'HISTOGRAM') {
            out.set(`${fam.name}_count`, Number(m.count))
            for (const [le, n] of Object.entries(m.buckets)) out.set(`${fam.name}_bucket{le=${le}}`, Number(n))
          } else {
            const labels = Object.entries(m.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')
            out.set(labels ? `${fam.name}{${labels}}` : fam.name, Number(m.value))
          }
          out.set(`type:${fam.name}`, fam.type)
        }
      }
      return out
    }
    const before = await scrape()
    const url = `${base}/secure/m`
    for (let i = 0; i < 3; i++) assert.equal((await fetch(url, { method: 'POST', headers: signed('POST', url, BODY), body: BODY })).status, 200)
    const once = signed('POST', url, BODY)
    assert.equal((await fetch(url, { method: 'POST', headers: once, body: BODY })).status, 200)
    assert.equal((await fetch(url, { method: 'POST', headers: once, body: BODY })).status, 401)
    assert.equal((await fetch(url, { method: 'POST', headers: signed('POST', url, BODY), body: '{}' })).status, 401)
    assert.equal((await fetch(url, { method: 'POST' })).status, 401)
    const afterScrape = await scrape()
    const d = (k) => afterScrape.get(k) - (before.get(k) ?? 0)
    assert.equal(d('authcore_verify_total{outcome=OK}'), 4)
    assert.equal(d('authcore_verify_total{outcome=REPLAYED_NONCE}'), 1)
    assert.equal(d('authcore_verify_total{outcome=BAD_SIGNATURE}'), 1)
    assert.equal(d('authcore_verify_total{outcome=MISSING_CLIENT_ID}'), 1)
    assert.equal(d('authcore_verify_total{outcome=TIMESTAMP_SKEW}'), 0)
    assert.equal(d('authcore_verify_duration_seconds_count'), 7)
    assert.equal(d('authcore_verify_duration_seconds_bucket{le=+Inf}'), 7)
    assert.equal(afterScrape.get('type:authcore_verify_total'), 'COUNTER')
    assert.equal(afterScrape.get('type:authcore_verify_duration_seconds'), 'HISTOGRAM')
    assert.equal(afterScrape.get('type:authcore_kdf_queue_depth'), 'GAUGE')
  })
})
