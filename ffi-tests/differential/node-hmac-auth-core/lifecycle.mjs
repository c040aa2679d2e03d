// Store-backed scenarios of @naskot/node-hmac-auth-core: the credential lifecycle
// (`clients.*` of initializeHmacHttpAuth / initializeHmacMessageAuth), the message track's
// store-backed signMessage/verifyMessage, and the Express-style middlewares, each over an
// in-memory Redis client (node-redis or ioredis call shapes) that records every command.
//
// `Date.now()` is frozen per step (T0 + 1000 * step) on both sides. Secrets the library
// generates itself are random on both sides: the outcome names them by order of first
// appearance (`<secret#k:hexLength>`, their hashes `<hash#k>`, signatures made with such a
// hash `<sig#k>`), so equal outcomes still mean the same calls with the same values.
import { createHash, createHmac } from 'node:crypto'
import { errorOf } from '../fuz-app-realtime/codec.mjs'

export const T0 = 1_750_000_000_000

/**
 * A Redis client with the commands the library uses, in node-redis (`hGet`, ...) or ioredis
 * (`hget`, ...) style; an ioredis-style `set` given an options object fails as a real one
 * does (Redis answers a syntax error), which sends the library to its second call shape.
 * `failOn` makes one command reject.
 */
export function recordingRedis(style, calls, failOn) {
  const hashes = new Map()
  const strings = new Map()
  const rec = (...a) => calls.push(a.map((x) => (x !== null && typeof x === 'object' ? JSON.stringify(x) : x)))
  const fail = (cmd) => {
    if (failOn === cmd) throw new Error(`redis ${cmd} failed`)
  }
  const hget = async (k, f) => {
    rec('hget', k, f)
    fail('hget')
    return hashes.get(k)?.get(f) ?? null
  }
  const hset = async (k, f, v) => {
    rec('hset', k, f, v)
    fail('hset')
    if (!hashes.has(k)) hashes.set(k, new Map())
    const isNew = !hashes.get(k).has(f)
    hashes.get(k).set(f, String(v))
    return isNew ? 1 : 0
  }
  const hdel = async (k, f) => {
    rec('hdel', k, f)
    fail('hdel')
    return hashes.get(k)?.delete(f) ? 1 : 0
  }
  const hkeys = async (k) => {
    rec('hkeys', k)
    fail('hkeys')
    return [...(hashes.get(k)?.keys() ?? [])]
  }
  const client = {
    async set(k, v, ...args) {
      rec('set', k, v, ...args)
      fail('set')
      if (style === 'ioredis' && args.some((a) => a !== null && typeof a === 'object')) throw new Error('ERR syntax error')
      const nx = args[0]?.NX === true || args.includes('NX')
      if (nx && strings.has(k)) return null
      strings.set(k, String(v))
      return 'OK'
    },
    async get(k) {
      rec('get', k)
      fail('get')
      return strings.get(k) ?? null
    },
    async del(k) {
      rec('del', k)
      fail('del')
      return strings.delete(k) ? 1 : 0
    },
  }
  if (style === 'ioredis') Object.assign(client, { hget, hset, hdel, hkeys })
  else Object.assign(client, { hGet: hget, hSet: hset, hDel: hdel, hKeys: hkeys })
  return {
    client,
    seedHash(k, f, v) {
      if (!hashes.has(k)) hashes.set(k, new Map())
      hashes.get(k).set(f, v)
    },
    seedString: (k, v) => strings.set(k, v),
    hashValue: (k, f) => hashes.get(k)?.get(f) ?? null,
  }
}

/** hashClientSecret computed here, independently of both sides. */
function hashSecret(secret, token) {
  return typeof token === 'string' && token !== '' ? createHmac('sha256', token).update(secret).digest('hex') : createHash('sha256').update(secret).digest('hex')
}

/** Runs `fn` with Date.now() returning `t`. */
async function at(t, fn) {
  const real = Date.now
  Date.now = () => t
  try {
    return await fn()
  } finally {
    Date.now = real
  }
}

async function settle(fn) {
  try {
    const v = await fn()
    return { ok: v === undefined ? '<undefined>' : v }
  } catch (e) {
    return { error: errorOf(e) }
  }
}

/** Names random values by order of first appearance and rewrites them in a JSON text. */
function randomNames() {
  const map = new Map()
  let secrets = 0
  let sigs = 0
  return {
    secret(secret, token) {
      if (typeof secret !== 'string' || map.has(secret)) return
      secrets++
      map.set(secret, `<secret#${secrets}:${secret.length}>`)
      map.set(hashSecret(secret, token), `<hash#${secrets}>`)
    },
    isRandomHash: (h) => typeof h === 'string' && map.has(h) && map.get(h).startsWith('<hash#'),
    signature(sig) {
      if (typeof sig !== 'string' || map.has(sig)) return
      sigs++
      map.set(sig, `<sig#${sigs}>`)
    },
    rewrite(text) {
      let out = text
      for (const [value, name] of map) if (value) out = out.split(value).join(name)
      return out
    },
  }
}

function argsOf(step) {
  // Trailing undefined arguments are dropped (the call then has fewer arguments, as written).
  const a = [...step.args]
  while (a.length && a[a.length - 1] === undefined && step.keepArity !== true) a.pop()
  return a
}

/** One `clients.scenario`: an instance, then steps; the whole trace is compared. */
export async function clientsScenario(impl, input) {
  const calls = []
  const store = recordingRedis(input.style, calls, input.failOn)
  const names = randomNames()
  const ns = typeof input.options.namespace === 'string' ? input.options.namespace.trim() || 'hmacauth' : 'hmacauth'
  for (const [field, raw] of input.seed ?? []) store.seedHash(`${ns}:clients`, field, raw)
  const init = input.track === 'message' ? impl.initializeHmacMessageAuth : impl.initializeHmacHttpAuth
  const trace = []
  let auth
  const made = await settle(() => {
    auth = init({ ...input.options, redis: store.client })
    return { namespace: auth.namespace, secretToken: auth.secretToken === undefined ? '<undefined>' : auth.secretToken, keys: Object.keys(auth.clients).sort() }
  })
  trace.push(['init', made])
  if (made.error) return { trace, calls }
  const token = input.options.secretToken
  let lastSignature = 'f'.repeat(64)
  for (let i = 0; i < input.steps.length; i++) {
    const step = input.steps[i]
    const mark = calls.length
    const out = await at(T0 + 1000 * (i + 1), () =>
      settle(async () => {
        switch (step.op) {
          case 'signMessage': {
            const r = await auth.signMessage(step.args[0])
            lastSignature = r.signature
            return r
          }
          case 'verifyMessage': {
            const a = { ...step.args[0] }
            if (a.signature === '$prev') a.signature = lastSignature
            return auth.verifyMessage(a)
          }
          default:
            return auth.clients[step.op](...argsOf(step))
        }
      }),
    )
    const given = step.op === 'create' ? step.args[0]?.plainSecret : step.op === 'regenerateSecret' ? step.args[1]?.plainSecret : undefined
    if (out.ok && typeof out.ok === 'object' && typeof out.ok.secret === 'string' && given === undefined) names.secret(out.ok.secret, token)
    if ((step.op === 'signMessage' || step.op === 'verifyMessage') && out.ok?.signature) {
      const raw = store.hashValue(`${ns}:clients`, step.args[0].clientId)
      let hash = raw
      try {
        hash = JSON.parse(raw).secretHash ?? raw
      } catch {}
      if (names.isRandomHash(hash)) names.signature(out.ok.signature)
    }
    trace.push([step.op, out, calls.length - mark])
  }
  return JSON.parse(names.rewrite(JSON.stringify({ trace, calls })))
}

/** A request signed by `impl` with the stored hash (or a bad signature). */
function signedHeaders(impl, req, hash) {
  const h = { ...req.headers }
  for (const [k, v] of Object.entries(h)) {
    if (v !== '$valid' && v !== '$VALID') continue
    let sig = 'f'.repeat(64)
    try {
      const raw = req.rawBody !== undefined ? Buffer.from(req.rawBody).toString('utf8') : req.body === undefined || req.body === null ? '' : typeof req.body === 'string' ? req.body : JSON.stringify(req.body)
      sig = impl.signRequest({ method: req.method, path: req.originalUrl ?? req.url, timestamp: Number(h['x-timestamp']), nonce: h['x-nonce'] ?? '', body: raw, secret: hash })
    } catch {}
    h[k] = v === '$VALID' ? sig.toUpperCase() : sig
  }
  return h
}

/** One `middleware.scenario`: a middleware made one of five ways, then requests through it. */
export async function middlewareScenario(impl, input) {
  const calls = []
  const store = recordingRedis(input.style, calls, input.failOn)
  const ns = typeof input.namespace === 'string' ? input.namespace.trim() || 'hmacauth' : 'hmacauth'
  if (input.record !== null) store.seedHash(`${ns}:clients`, 'orders', input.record)
  const events = []
  const bad = (tag) => (e) => {
    events.push([tag, e.clientId, e.method, e.path, e.timestamp, e.nonce, e.expectedSignature, typeof e.receivedSignature, e.rawBody === undefined ? '<undefined>' : Buffer.isBuffer(e.rawBody) ? `<buffer ${e.rawBody.toString('hex')}>` : e.rawBody, JSON.stringify(e.metadata)])
    if (input.badThrows) throw new Error('callback failed')
  }
  const mwOptions = {}
  for (const [k, v] of Object.entries(input.mwOptions ?? {})) {
    if (k === 'onError') {
      mwOptions.onError = (err, req, res, next) => {
        events.push(['onError', errorOf(err), err instanceof impl.HmacAuthError])
        if (v === 'next') next(err)
        else res.status(418).json({ custom: err.code })
      }
    } else if (k === 'onBadSignature') mwOptions.onBadSignature = bad('mw')
    else mwOptions[k] = v
  }
  const trace = []
  let mw
  const made = await settle(() => {
    const instanceOptions = { redis: store.client }
    if (input.namespace !== undefined) instanceOptions.namespace = input.namespace
    if (input.maxSkewMs !== undefined) instanceOptions.maxSkewMs = input.maxSkewMs
    if (input.instanceBad) instanceOptions.onBadSignature = bad('instance')
    switch (input.factory) {
      case 'verifyHttpRequest':
        mw = impl.initializeHmacHttpAuth(instanceOptions).verifyHttpRequest
        break
      case 'createHttpMiddleware':
      case 'createExpressHttpMiddleware':
        mw = impl.initializeHmacHttpAuth(instanceOptions)[input.factory](input.noOptions ? undefined : mwOptions)
        break
      default: {
        const o = { ...mwOptions, redis: input.noRedis ? undefined : store.client }
        if (input.namespace !== undefined) o.namespace = input.namespace
        mw = impl[input.factory](o)
      }
    }
    return typeof mw
  })
  trace.push(['make', made])
  if (made.error) return { trace, calls, events }
  for (let i = 0; i < input.requests.length; i++) {
    const spec = input.requests[i]
    const mark = calls.length
    const req = { method: spec.method, headers: signedHeaders(impl, spec, input.secretHash) }
    if (spec.originalUrl !== undefined) req.originalUrl = spec.originalUrl
    if (spec.url !== undefined) req.url = spec.url
    if (spec.rawBody !== undefined) req.rawBody = Buffer.from(spec.rawBody, 'utf8')
    if (spec.body !== undefined) req.body = spec.bodyBuffer ? Buffer.from(spec.body, 'utf8') : spec.body
    if (spec.ip !== undefined) req.ip = spec.ip
    if (spec.ips !== undefined) req.ips = spec.ips
    if (spec.remoteAddress !== undefined) req.socket = { remoteAddress: spec.remoteAddress }
    const seen = []
    let res
    if (spec.res === 'express') {
      res = {
        status(code) {
          seen.push(['status', code])
          return this
        },
        json(body) {
          seen.push(['json', body])
          return this
        },
      }
    } else if (spec.res === 'statusOnly') {
      res = { status: (code) => seen.push(['status', code]) }
    } else res = undefined
    const next = (...a) => {
      seen.push(['next', ...a.map((e) => (e instanceof Error ? errorOf(e) : e === undefined ? '<undefined>' : e))])
      if (spec.nextThrows && a.length === 0) throw new Error('route failed')
    }
    const ret = await at(T0, () => settle(() => mw(req, res, next)))
    const attach = (input.factory !== 'verifyHttpRequest' && !input.noOptions && input.mwOptions?.attachAuthTo) || 'hmacAuth'
    trace.push(['request', ret, seen, req[attach] === undefined ? '<none>' : req[attach], calls.length - mark])
  }
  return { trace, calls, events }
}

// ------------------------------------------------------------------ generators

const IDS = ['orders', 'billing', ' padded ', 'é-client', 'orders']
const ODD_IDS = ['', '   ', null, undefined]
const IPS = ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32', '::ffff:198.51.100.1', ' 10.1.1.1 ', '[2001:db8::1]', '192.168.1.1:8080', '10.0.0.1/08', '0.0.0.0/0']
const BAD_IPS = ['bad-rule', '192.168.1.1/33', '', '10.0.0.0/-1', '1.2.3.4/ 8']

function ipList(r) {
  if (r.chance(0.1)) return r.pick([null, [], [r.pick(BAD_IPS)], 'not-an-array', [5]])
  return Array.from({ length: r.int(1, 3) }, () => r.pick(IPS))
}

function expiresAt(r) {
  return r.pick([T0 + 5500, T0 + 60_000, T0 - 1, null, new Date(T0 + 9000), 1.5, NaN, '1750000070000', Infinity])
}

function clientId(r) {
  return r.chance(0.9) ? r.pick(IDS) : r.pick(ODD_IDS)
}

function secretOptions(r, o = {}) {
  const c = r.int(0, 9)
  if (c < 4) o.plainSecret = r.pick(['plain-secret', 'another one', 'é😀', 'x'.repeat(70)])
  else if (c === 4) o.plainSecret = r.pick(['', '   '])
  else if (c === 5) o.secretLengthBytes = r.pick([16, 32, 128, 15, 129, 20.5])
  return o
}

export function clientsCase(r) {
  const track = r.chance(0.7) ? 'http' : 'message'
  const options = {}
  if (r.chance(0.3)) options.namespace = r.pick(['tenant-a', ' spaced ', 'hmacauth', '  '])
  if (r.chance(0.5)) options.secretToken = r.pick(['pepper', '', 'é-pepper'])
  if (r.chance(0.25)) options.defaultSecretLengthBytes = r.pick([16, 24, 64, 128, 15, 129, 32.5])
  if (r.chance(0.4)) options.dbSeedBackupTtlSeconds = r.pick([1, 60, 600, 86400])
  const seed = []
  if (r.chance(0.3)) seed.push(['billing', r.pick(['{"secretHash":"' + 'ab'.repeat(32) + '","createdAt":5,"updatedAt":6,"expiresAt":null,"allowedIps":["10.0.0.0/8","bad"]}', 'cd'.repeat(32), '{"secretHash":5}', '{"secretHash":"' + 'ef'.repeat(32) + '","createdAt":"x","expiresAt":' + (T0 + 3000) + '}'])])
  const steps = []
  for (let n = r.int(4, 14); n > 0; n--) {
    const id = clientId(r)
    const k = r.int(0, track === 'message' ? 13 : 11)
    switch (k) {
      case 0:
      case 1: {
        const o = secretOptions(r, { clientId: id })
        if (r.chance(0.4)) o.expiresAt = expiresAt(r)
        if (r.chance(0.4)) o.allowedIps = ipList(r)
        steps.push({ op: 'create', args: [o] })
        break
      }
      case 2:
        steps.push({ op: 'get', args: [id] })
        break
      case 3:
        steps.push({ op: 'listClientIds', args: [] })
        break
      case 4:
        steps.push({ op: 'delete', args: [id] })
        break
      case 5: {
        const o = r.chance(0.2) ? undefined : secretOptions(r)
        if (o && r.chance(0.3)) o.expiresAt = expiresAt(r)
        if (o && r.chance(0.3)) o.preserveExpiresAt = r.pick([false, true])
        if (o && r.chance(0.3)) o.allowedIps = ipList(r)
        steps.push({ op: 'regenerateSecret', args: o === undefined ? [id] : [id, o] })
        break
      }
      case 6:
        steps.push({ op: 'setSecret', args: [id, r.pick(['plain-secret', 'rotated', 'é😀', '']), r.chance(0.4) ? expiresAt(r) : undefined, r.chance(0.4) ? ipList(r) : undefined] })
        break
      case 7:
        steps.push({ op: 'setSecretHash', args: [id, r.pick(['ab'.repeat(32), ' ' + 'AB'.repeat(32) + ' ', '12'.repeat(32), 'not-hex']), r.chance(0.4) ? expiresAt(r) : undefined, r.chance(0.4) ? ipList(r) : undefined] })
        break
      case 8:
        steps.push({ op: 'setAllowedIps', args: [id, ipList(r)] })
        break
      case 9:
        steps.push({ op: 'getSecretHash', args: [id] })
        break
      case 10:
      case 11:
        steps.push({ op: 'revert', args: [id] })
        break
      case 12:
        steps.push({ op: 'signMessage', args: [{ clientId: id, message: r.pick(['hello', { b: 1, a: [1, 'x'] }, null, 42, '']) }] })
        break
      default:
        steps.push({ op: 'verifyMessage', args: [{ clientId: id, message: r.pick(['hello', { b: 1, a: [1, 'x'] }, 42]), signature: r.pick(['$prev', '$prev', '', '  ', 'ab'.repeat(32), 'zz']) }] })
    }
  }
  const input = { track, style: r.pick(['node-redis', 'ioredis']), options, seed, steps }
  if (r.chance(0.05)) input.failOn = r.pick(['hget', 'hset', 'set', 'get', 'del', 'hdel', 'hkeys'])
  return input
}

const SECRET_HASH = 'a1'.repeat(32)

export function middlewareCase(r) {
  const factory = r.pick(['verifyHttpRequest', 'createHttpMiddleware', 'createExpressHttpMiddleware', 'createExpressHttpHmacMiddleware', 'createHttpHmacMiddleware'])
  const input = { factory, style: r.pick(['node-redis', 'ioredis']), secretHash: SECRET_HASH }
  const rec = { secretHash: SECRET_HASH, createdAt: 1, updatedAt: 2, expiresAt: r.pick([null, null, null, T0 - 1, T0 + 1000]) }
  if (r.chance(0.3)) rec.allowedIps = [r.pick(['203.0.113.7', '10.0.0.0/8', '2001:db8::/32'])]
  input.record = r.chance(0.08) ? null : r.chance(0.05) ? SECRET_HASH : JSON.stringify(rec)
  if (r.chance(0.2)) input.namespace = r.pick(['tenant-a', ' spaced '])
  if (r.chance(0.2)) input.maxSkewMs = r.pick([1000, 60_000])
  if (r.chance(0.3)) input.instanceBad = true
  if (r.chance(0.2)) input.badThrows = true
  const mw = {}
  if (r.chance(0.4)) mw.attachAuthTo = r.pick(['auth', 'hmac', 'hmacAuth'])
  if (r.chance(0.3)) mw.maxSkewMs = r.pick([2000, 300_000])
  if (r.chance(0.3)) mw.onError = r.pick(['respond', 'next'])
  if (r.chance(0.3)) mw.onBadSignature = true
  input.mwOptions = mw
  if (factory.startsWith('createExpress') || factory === 'createHttpMiddleware') if (r.chance(0.1)) input.noOptions = true
  if ((factory === 'createExpressHttpHmacMiddleware' || factory === 'createHttpHmacMiddleware') && r.chance(0.08)) input.noRedis = true
  if (r.chance(0.04)) input.failOn = r.pick(['hget', 'set'])
  input.requests = []
  for (let n = r.int(1, 4); n > 0; n--) {
    const ts = T0 + r.pick([0, -1500, 2500, -90_000, 400_000])
    const headers = {
      'x-client-id': r.chance(0.9) ? r.pick(['orders', ' orders ']) : r.pick(['', 'nobody']),
      'x-timestamp': r.chance(0.95) ? String(ts) : r.pick(['', 'soon']),
      'x-nonce': r.chance(0.95) ? r.str('0123456789abcdef', 32, 32) : '',
      'x-signature': r.chance(0.75) ? '$valid' : r.pick(['$VALID', '', 'deadbeef', 'f'.repeat(64)]),
    }
    if (r.chance(0.15)) delete headers[r.pick(Object.keys(headers))]
    if (r.chance(0.2)) headers['x-forwarded-for'] = r.pick(['203.0.113.7', '198.51.100.1, 10.0.0.1', 'garbage'])
    if (r.chance(0.15)) headers['X-Client-Id'] = r.pick(['billing', 'orders'])
    const spec = { method: r.pick(['POST', 'get', 'PUT']), headers }
    const where = r.int(0, 3)
    const p = r.pick(['/api/orders?x=1', '/a b', 'http://h/x/../y', '/'])
    if (where === 0) spec.originalUrl = p
    else if (where === 1) spec.url = p
    else {
      spec.originalUrl = p
      spec.url = '/other'
    }
    switch (r.int(0, 5)) {
      case 0:
        spec.rawBody = r.pick(['{"a":1}', 'é', ''])
        break
      case 1:
        spec.body = r.pick(['plain text', ''])
        break
      case 2:
        spec.body = r.pick([{ b: 2, a: 1 }, [1, 2], { s: 'é' }])
        break
      case 3:
        spec.body = '{"raw":true}'
        spec.bodyBuffer = true
        break
      case 4:
        spec.body = null
        break
      default:
    }
    if (r.chance(0.3)) spec.ip = r.pick(['203.0.113.7', '10.1.2.3', '::ffff:10.9.9.9', 'garbage'])
    if (r.chance(0.15)) spec.ips = r.pick([['bad', '203.0.113.7'], []])
    if (r.chance(0.3)) spec.remoteAddress = r.pick(['::ffff:203.0.113.7', '2001:db8::5', '127.0.0.1'])
    spec.res = r.chance(0.8) ? 'express' : r.pick(['statusOnly', 'none'])
    if (r.chance(0.1)) spec.nextThrows = true
    input.requests.push(spec)
    if (r.chance(0.2)) input.requests.push({ ...spec }) // the same request again: a replay
  }
  return input
}
