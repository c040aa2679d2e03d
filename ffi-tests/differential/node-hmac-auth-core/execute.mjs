// One call of the signing track on an implementation: `{ok: value}` or `{error: {class,
// message, code}}`. A case whose input holds `"sign": true` as its signature is verified with
// a signature made by the same implementation first (a valid one).
import { dec, errorOf } from '../fuz-app-realtime/codec.mjs'
import { clientsScenario, middlewareScenario } from './lifecycle.mjs'

export const OP_NAMES = ['buildSigningPayload', 'signRequest', 'hashClientSecret', 'hashBody', 'safeEqualHex', 'buildMessageSigningPayload', 'signMessage', 'verifyMessage', 'verifyHttpSignature', 'clients.scenario', 'middleware.scenario']

/** An in-memory Redis client in node-redis or ioredis style that records every command. */
function fakeRedis(style, calls) {
  const hashes = new Map()
  const strings = new Map()
  const rec = (...a) => calls.push(a.map((x) => (x !== null && typeof x === 'object' ? JSON.stringify(x) : x)))
  const hget = async (k, f) => {
    rec('hget', k, f)
    return hashes.get(k)?.get(f) ?? null
  }
  const hset = async (k, f, v) => {
    rec('hset', k, f, v)
    if (!hashes.has(k)) hashes.set(k, new Map())
    hashes.get(k).set(f, v)
    return 1
  }
  const c = {
    async set(k, v, ...args) {
      rec('set', k, v, ...args)
      const nx = args[0]?.NX === true || args.includes('NX')
      if (nx && strings.has(k)) return null
      strings.set(k, v)
      return 'OK'
    },
    async get(k) {
      rec('get', k)
      return strings.get(k) ?? null
    },
    async del(k) {
      rec('del', k)
      return strings.delete(k) ? 1 : 0
    },
  }
  if (style === 'ioredis') Object.assign(c, { hget, hset, hdel: async () => 0, hkeys: async () => [] })
  else Object.assign(c, { hGet: hget, hSet: hset, hDel: async () => 0, hKeys: async () => [] })
  return { client: c, seed: (k, f, v) => hashes.set(k, new Map([[f, v]])) }
}

async function verifyCase(impl, input) {
  const calls = []
  const { client, seed } = fakeRedis(input.style, calls)
  const ns = (input.namespace ?? 'hmacauth').trim() || 'hmacauth'
  const clientId = (input.headers['x-client-id'] ?? '').trim()
  if (input.record !== null) seed(`${ns}:clients`, clientId, input.record)
  const headers = { ...input.headers }
  if (headers['x-signature'] === 'valid' || headers['x-signature'] === 'VALID-UPPER') {
    let sig = 'f'.repeat(64)
    try {
      const m = /"secretHash":"([0-9a-f]{64})"/.exec(input.record ?? '')
      const secret = m ? m[1] : input.record ?? 'none'
      sig = impl.signRequest({ method: input.method, path: input.path, timestamp: Number(headers['x-timestamp']), nonce: headers['x-nonce'] ?? '', body: input.rawBody ?? '', secret })
    } catch {}
    headers['x-signature'] = headers['x-signature'] === 'VALID-UPPER' ? sig.toUpperCase() : sig
  }
  const bad = []
  const args = { redis: client, method: input.method, path: input.path, headers, rawBody: input.rawBody ?? undefined, now: input.now, onBadSignature: (e) => bad.push([e.clientId, e.method, e.path, e.timestamp, e.nonce, e.receivedSignature === headers['x-signature'], e.expectedSignature]) }
  if ('maxSkewMs' in input) args.maxSkewMs = input.maxSkewMs
  if ('namespace' in input) args.namespace = input.namespace
  if ('metadata' in input) args.metadata = input.metadata
  const one = async () => {
    try {
      return { ok: await impl.verifyHttpSignature(args) }
    } catch (e) {
      return { error: errorOf(e) }
    }
  }
  const first = await one()
  const second = input.replay ? await one() : undefined
  return { first, second, calls, bad }
}

export async function execute(implOrPromise, kase) {
  const impl = await implOrPromise
  const input = dec(kase.input)
  try {
    let value
    switch (kase.op) {
      case 'hashClientSecret':
        value = impl.hashClientSecret(input.secret, input.secretToken)
        break
      case 'hashBody':
        value = impl.hashBody(input.body)
        break
      case 'safeEqualHex':
        value = impl.safeEqualHex(input.a, input.b)
        break
      case 'verifyHttpSignature':
        return { ok: await verifyCase(impl, input) }
      case 'clients.scenario':
        return { ok: await clientsScenario(impl, input) }
      case 'middleware.scenario':
        return { ok: await middlewareScenario(impl, input) }
      case 'verifyMessage': {
        const v = { ...input }
        if (v.signature === 'sign') v.signature = impl.signMessage(v).signature
        value = impl.verifyMessage(v)
        break
      }
      default:
        value = impl[kase.op](input)
    }
    return { ok: value }
  } catch (e) {
    return { error: errorOf(e) }
  }
}
