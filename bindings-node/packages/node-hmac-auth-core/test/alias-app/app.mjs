// A small app written only against @naskot/node-hmac-auth-core 1.0.0 (Express server with
// the middleware + a client using the signed fetch). The test installs it with
// "@naskot/node-hmac-auth-core": "file:<our package>" and runs it unchanged.
import { once } from 'node:events'
import express from 'express'
import { createClient } from 'redis'
import {
  initializeHmacHttpAuth,
  captureRawBody,
  createExpressHttpHmacMiddleware,
  createHttpSignedFetchClient,
  signedHttpFetch,
  HmacAuthError,
} from '@naskot/node-hmac-auth-core'

const redis = createClient({ url: process.env.REDIS_URL })
await redis.connect()
const namespace = process.env.HMAC_NAMESPACE

const auth = initializeHmacHttpAuth({ redis, namespace, maxSkewMs: 60_000 })
const { secret } = await auth.clients.create({ clientId: 'billing', secretLengthBytes: 16 })

const app = express()
app.use(express.json({ verify: captureRawBody }))
app.post('/api/orders', createExpressHttpHmacMiddleware({ redis, namespace }), (req, res) => {
  res.json({ caller: req.hmacAuth.clientId, order: req.body })
})
app.get('/api/health', auth.verifyHttpRequest, (req, res) => res.json({ ok: true, caller: req.hmacAuth.clientId }))

const server = app.listen(0, '127.0.0.1')
await once(server, 'listening')
const base = `http://127.0.0.1:${server.address().port}`

const client = createHttpSignedFetchClient({ clientId: 'billing', secret })
const result = {}
const read = async (r) => [r.status, await r.json()]
result.post = await read(await client(`${base}/api/orders`, { method: 'POST', body: { id: 7, items: [1, 2] } }))
result.get = await read(await client(`${base}/api/health`))
result.wrongSecret = await read(await signedHttpFetch(`${base}/api/health`, { clientId: 'billing', secret: 'wrong' }))
result.unsigned = await read(await fetch(`${base}/api/health`))
result.errorClass = typeof HmacAuthError === 'function' && new HmacAuthError('BAD_SIGNATURE', 'x') instanceof Error
result.stored = JSON.parse(await redis.hGet(`${namespace}:clients`, 'billing'))

server.close()
const keys = await redis.keys(`${namespace}:*`)
if (keys.length) await redis.del(keys)
await redis.quit()
console.log(JSON.stringify(result))
