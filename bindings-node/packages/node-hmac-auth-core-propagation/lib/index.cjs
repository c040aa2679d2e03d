'use strict'
// @authcore/node-hmac-auth-core-propagation: a drop-in for
// @naskot/node-hmac-auth-core-propagation 1.0.0 on the authcore Rust core. The protocol
// (RabbitMQ link, wire v1, cursor and ack store, receive pipeline, ensure/rotate/revoke/
// sync) and createPropagator's option checks run in the native addon; this file only shapes results and
// answers the addon's calls into JavaScript (management callbacks, the Redis client
// object, auth.clients of the core instances, the logger) through one dispatcher.

const native = require('@authcore/native')

const DEFAULT_AMQP_VHOST = native.propagationDefaultAmqpVhost()

// ------------------------------------------------------------------ errors (§2.6)

class HmacPropagationError extends Error {
  constructor(code, message, cause) {
    super(message ?? code)
    this.code = code
    this.cause = cause
    this.name = 'HmacPropagationError'
  }
}

const PROPAGATION_CODES = new Set(['MANAGEMENT_NOT_CONFIGURED', 'UNKNOWN_CLIENT', 'INVALID_OPTIONS', 'INTERNAL_ERROR'])

// Values thrown by JS callbacks, kept until the caller they reach rethrows them (same
// object) or the addon says it no longer carries them (`error.release`).
const thrown = new Map()
const THROWN_MAX = 10000
const RELEASE_DELAY_MS = 30000
let nextThrownId = 1

function keepThrown(value) {
  const id = nextThrownId++
  thrown.set(id, value)
  if (thrown.size > THROWN_MAX) thrown.delete(thrown.keys().next().value)
  return id
}

function releaseThrown(id) {
  if (!thrown.has(id)) return
  // The rejection that rethrows it may still be on its way: forget it a bit later.
  const t = setTimeout(() => thrown.delete(id), RELEASE_DELAY_MS)
  t.unref?.()
}

let hmacAuthErrorClass
function HmacAuthErrorClass() {
  if (hmacAuthErrorClass === undefined) {
    hmacAuthErrorClass = null
    for (const name of ['@authcore/node-hmac-auth-core', '@naskot/node-hmac-auth-core']) {
      try {
        const C = require(name).HmacAuthError
        if (typeof C === 'function') {
          hmacAuthErrorClass = C
          break
        }
      } catch {
        // optional peer
      }
    }
  }
  return hmacAuthErrorClass
}

/** The original's error for a native error (or the value a JS callback threw). */
function toJsError(e) {
  if (!e || typeof e !== 'object' || typeof e.code !== 'string') return e
  if (typeof e.jsErrorId === 'number' && thrown.has(e.jsErrorId)) {
    const value = thrown.get(e.jsErrorId)
    thrown.delete(e.jsErrorId)
    return value
  }
  if (PROPAGATION_CODES.has(e.code)) return new HmacPropagationError(e.code, e.message)
  switch (e.code) {
    case 'INVALID_QUEUE_NAME':
    case 'SYNC_ERROR':
    case 'CALLBACK_ERROR':
      return new Error(e.message)
    default:
      break
  }
  if (e.isHmacAuthError === true) {
    const C = HmacAuthErrorClass()
    if (C) return new C(e.code, e.message, e.status)
    const err = new Error(e.message)
    err.name = 'HmacAuthError'
    err.code = e.code
    err.status = e.status
    return err
  }
  const err = new Error(e.message)
  err.code = e.code
  return err
}

function call(fn) {
  try {
    return fn()
  } catch (e) {
    throw toJsError(e)
  }
}

async function callAsync(promise) {
  try {
    return await promise
  } catch (e) {
    throw toJsError(e)
  }
}

function describe(v) {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (typeof v === 'object') return `an instance of ${v.constructor?.name ?? 'Object'}`
  return `type ${typeof v} (${String(v)})`
}

function typeError(message) {
  const e = new TypeError(message)
  e.code = 'ERR_INVALID_ARG_TYPE'
  return e
}

function str(v, name) {
  if (typeof v !== 'string') throw typeError(`The "${name}" field must be of type string. Received ${describe(v)}`)
  return v
}

function optStr(v, name) {
  return v === undefined || v === null ? undefined : str(v, name)
}

function strList(v, name) {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw typeError(`The "${name}" field must be an array of strings. Received ${describe(v)}`)
  }
  return v
}

function optStrList(v, name) {
  return v === undefined || v === null ? undefined : strList(v, name)
}

function optNumber(v, name) {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number') throw typeError(`The "${name}" field must be of type number. Received ${describe(v)}`)
  return v
}

// ------------------------------------------------------------------ wire helpers (§2.1)

// A name with lone surrogates never matches [A-Za-z0-9-]+; it is refused here so the message
// quotes the caller's own string (a Rust string would carry U+FFFD instead).
function refuseIllFormedQueueName(name) {
  if (!name.isWellFormed()) throw new Error(`Invalid amqpQueue "${name}": must match [A-Za-z0-9-]+`)
}

function buildQueueName(amqpQueue) {
  const name = String(amqpQueue)
  refuseIllFormedQueueName(name)
  return call(() => native.propagationBuildQueueName(name))
}

// ------------------------------------------------------------------ the dispatcher

function messageOf(err) {
  try {
    return String(err?.message)
  } catch {
    return 'unknown error'
  }
}

function authOf(options, which) {
  return which === 'http' ? options.hmacHttpAuth : options.hmacMessageAuth
}

// ensure() calls waiting for their result, by id: the addon's h.ensure settles one as soon as
// its steps complete it (nothing of ensure follows them in the core), ahead of the addon's
// own promise, which says the same later.
const ensureCallers = new Map()
let lastEnsureCaller = 0
function nextEnsureCaller() {
  lastEnsureCaller = lastEnsureCaller >= 0xfffffff0 ? 1 : lastEnsureCaller + 1
  return lastEnsureCaller
}

/**
 * The addon's verdicts that come as `h.gate` (ticket -> a promise of it): for a gated
 * h.ensure, or an ensure() running its own steps, that asked before the addon had it
 * (sent once, only to a waiting caller).
 */
function gateWaiters() {
  const gates = new Map()
  const gateOf = (ticket) => {
    let g = gates.get(ticket)
    if (!g) {
      g = {}
      g.verdict = new Promise((resolve) => (g.resolve = resolve))
      gates.set(ticket, g)
    }
    return g
  }
  return {
    wait: (ticket) => gateOf(ticket).verdict,
    settle: (ticket, proceed) => {
      const g = gateOf(ticket)
      gates.delete(ticket)
      g.resolve(proceed === true)
    },
  }
}

/** A node-redis hGetAll answer as the addon takes it (`{outstanding}`: field -> string). */
function outstandingOf(v) {
  const outstanding = {}
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) outstanding[k] = typeof x === 'string' ? x : JSON.stringify(x)
  }
  return { outstanding }
}

/**
 * The writes of ensure() once clients.get has answered and nothing is left to retire, in the
 * original's order: upsertCredentialWithTargets, then setSecretHash. One copy, for the steps
 * the addon hands over (`h.ensure`) and for those ensure() runs itself. Returns the op.
 */
async function ensureWrites(handlers, which, found, clientId, track, secretPlain, allowedIps, expiresAt, targets, secretHash) {
  const op = found ? 'credential.update' : 'credential.create'
  await handlers['m.upsert'](clientId, track, op, secretPlain, allowedIps, expiresAt, targets)
  await handlers['a.set'](which, clientId, secretHash, expiresAt, allowedIps)
  return op
}

/** The addon's calls into JavaScript, by op (see bindings-node/src/propagation.rs). */
function handlersFor(options, channel, gates) {
  const verdictOf = (ticket) => {
    const known = channel().gate(ticket)
    return known === null || known === undefined ? gates.wait(ticket) : known
  }
  const m = () => options.management
  const r = () => options.redis
  const handlers = {
    // management (§2.4): inputs with the original's exact keys and key order
    'm.upsert': (clientId, track, op, secretPlain, allowedIps, expiresAt, targets) =>
      m().upsertCredentialWithTargets(
        op === 'credential.delete'
          ? { clientId, track, op, secretPlain, targets }
          : { clientId, track, op, secretPlain, allowedIps: allowedIps ?? undefined, expiresAt, targets },
      ),
    'm.rotate': (clientId, track, secretPlain) => m().rotateCredentialSecret({ clientId, track, secretPlain }),
    'm.fetchPending': () => m().fetchPendingPropagations(),
    'm.fetchSourceSecret': async (senderAmqpQueue) => {
      const s = await m().fetchSourcePropagationSecret(senderAmqpQueue)
      return s ? String(s) : null
    },
    'm.markSent': (clientId, targetAmqpQueue, sentAt, attemptCount) =>
      m().markTargetSent({ clientId, targetAmqpQueue, sentAt, attemptCount }),
    'm.markSuccess': (clientId, targetAmqpQueue, appliedAt) =>
      m().markTargetSuccess({ clientId, targetAmqpQueue, appliedAt }),
    'm.markError': (clientId, targetAmqpQueue, reason, failedAt) =>
      m().markTargetError({ clientId, targetAmqpQueue, reason, failedAt }),
    'm.fully': (clientId, finalStatus, at) => m().markCredentialFullyPropagated({ clientId, finalStatus, at }),
    // PropagationRedisClient (§2.7), node-redis v4 call shapes
    'r.hGet': (key, field) => r().hGet(key, field),
    'r.hSet': (key, pairs) => r().hSet(key, Object.fromEntries(pairs)),
    'r.hGetAll': (key) => r().hGetAll(key),
    'r.hDel': (key, field) => r().hDel(key, field),
    'r.sAdd': (key, member) => r().sAdd(key, member),
    'r.sRem': (key, member) => r().sRem(key, member),
    'r.sCard': (key) => r().sCard(key),
    'r.expire': (key, seconds) => r().expire(key, seconds),
    'r.del': (key) => r().del(key),
    // the core instances (§3.7)
    'a.get': async (which, clientId) => !!(await authOf(options, which).clients.get(clientId)),
    'a.set': (which, clientId, secretHash, expiresAt, allowedIps) =>
      authOf(options, which).clients.setSecretHash(clientId, secretHash, expiresAt ?? undefined, allowedIps ?? undefined),
    'a.delete': (which, clientId) => authOf(options, which).clients.delete(clientId),
    // the host steps of ensure/rotate in one call from the addon, in the original's order
    // (each step exactly as its own op above; the first throw ends the sequence). With a
    // ticket, the addon reads the ack store meanwhile: after clients.get, the steps ask for
    // its verdict (or wait for `h.gate` when it is not known yet) and stop there, answering
    // whether the client exists, unless it says proceed (the addon then retires the
    // client's outstanding events and calls again).
    'h.ensure': async (which, exists, clientId, track, secretPlain, allowedIps, expiresAt, targets, secretHash, ticket, caller) => {
      try {
        const found = exists === null ? await handlers['a.get'](which, clientId) : exists
        if (ticket !== undefined && ticket !== null && !(await verdictOf(ticket))) return { stopped: found }
        const op = await ensureWrites(handlers, which, found, clientId, track, secretPlain, allowedIps, expiresAt, targets, secretHash)
        ensureCallers.get(caller)?.resolve(op)
        return op
      } catch (err) {
        ensureCallers.get(caller)?.reject(err)
        throw err
      }
    },
    // the addon's verdict for a gated h.ensure (or an ensure() running its own steps)
    // that is waiting for it
    'h.gate': (ticket, proceed) => gates.settle(ticket, proceed),
    'h.rotate': async (which, clientId, track, secretPlain, secretHash) => {
      await handlers['m.rotate'](clientId, track, secretPlain)
      await handlers['a.set'](which, clientId, secretHash, null, null)
    },
    // an ACK's callbacks: markTargetSuccess/markTargetError, then (when it completed the
    // credential) markCredentialFullyPropagated
    'h.ack': async (op, args, fully) => {
      if (op !== 'm.markSuccess' && op !== 'm.markError') throw new Error(`not an ACK callback: ${op}`)
      await handlers[op](...args)
      if (fully) await handlers['m.fully'](...fully)
    },
    // the writes of one step, in order, in one call from the addon: [[op, ...args], ...]
    'r.batch': async (writes) => {
      for (const [op, ...args] of writes) {
        if (!op.startsWith('r.') || op === 'r.batch') throw new Error(`not a redis write: ${op}`)
        await handlers[op](...args)
      }
    },
  }
  return handlers
}

/**
 * The addon's channel into this file's handlers: the addon hands over batches of calls
 * (`[[id, op, args], ...]`, queued while the event loop was busy), each started here in
 * order; a call with an id is answered once through `reply(id, replyJson)`, never
 * rejected: `{"v": value}`, or `{"e": id, "m": message}` when the call threw (the thrown
 * value stays here under that id). Identical `m.fetchSourceSecret` reads of one batch
 * (all asked before it started) share one call.
 */
function createDispatcher(options) {
  let channel
  const gates = gateWaiters()
  const handlers = handlersFor(options, () => channel, gates)
  const logger = options.logger
  const log = (level, line) => {
    try {
      logger[level](line)
    } catch {
      // a logger must not break the pipeline
    }
  }
  const replyOf = (v) => (v === undefined ? '{}' : JSON.stringify({ v }))
  const thrownOf = (err) => JSON.stringify({ e: keepThrown(err), m: messageOf(err) })
  function start(op, args) {
    try {
      const handler = handlers[op]
      if (!handler) throw new Error(`unknown propagation dispatcher op ${op}`)
      return Promise.resolve(handler(...args)).then(replyOf, thrownOf)
    } catch (err) {
      return Promise.resolve(thrownOf(err))
    }
  }
  function runBatch(batchJson) {
    let batch
    try {
      batch = JSON.parse(batchJson)
    } catch {
      return
    }
    let sourceSecrets
    for (const [id, op, args] of batch) {
      switch (op) {
        case 'log.info':
        case 'log.warn':
        case 'log.error':
          log(op.slice(4), args[0])
          continue
        case 'error.release':
          releaseThrown(args[0])
          continue
        default:
          break
      }
      let reply
      if (op === 'm.fetchSourceSecret') {
        sourceSecrets ??= new Map()
        reply = sourceSecrets.get(args[0])
        if (reply === undefined) sourceSecrets.set(args[0], (reply = start(op, args)))
      } else {
        reply = start(op, args)
      }
      if (id !== 0) reply.then((text) => channel.reply(id, text))
    }
  }
  channel = new native.PropagationDispatch(runBatch)
  return { channel, handlers, gates }
}

// ------------------------------------------------------------------ createPropagator (§2.2)

// ------------------------------------------------------------------ native Redis for a client object

/**
 * The Redis a node-redis (v4/v5) client's `options` name, as a `redis://` URL; undefined
 * when there are no such options or they name something the core would not reach the same
 * way (a unix socket, TLS and its options).
 */
function redisUrlOf(client) {
  const o = client.options
  if (!o || typeof o !== 'object') return undefined
  const s = o.socket && typeof o.socket === 'object' ? o.socket : {}
  if (s.path || s.tls) return undefined
  let u
  try {
    u = new URL(typeof o.url === 'string' ? o.url : 'redis://localhost:6379')
  } catch {
    return undefined
  }
  if (u.protocol !== 'redis:') return undefined
  if (typeof s.host === 'string' && s.host) u.hostname = s.host
  if (typeof s.port === 'number' || (typeof s.port === 'string' && s.port)) u.port = String(s.port)
  if (typeof o.username === 'string' && o.username) u.username = encodeURIComponent(o.username)
  if (typeof o.password === 'string' && o.password) u.password = encodeURIComponent(o.password)
  if (Number.isInteger(o.database)) u.pathname = `/${o.database}`
  return u.href
}

/**
 * With a node-redis client object, the core can skip the hop into JS for every Redis
 * command: it writes a probe through the client and uses a native connection to the URL
 * of the client's options only if it reads the same value there (same server, same
 * database). `nativeRedis: false` opts out.
 */
function hostOf(options) {
  const client = options.redis
  const native = client && typeof client === 'object' && options.nativeRedis !== false
  return { redisNativeUrl: native ? redisUrlOf(client) : undefined }
}

/** The rejection of the addon's `createPropagator` as the original's error. */
function createError(e, options) {
  const err = toJsError(e)
  const name = options.amqpQueue
  // The addon saw a name with lone surrogates as U+FFFD: quote the caller's own string.
  if (e?.code === 'INVALID_QUEUE_NAME' && typeof name === 'string' && !name.isWellFormed()) {
    err.message = err.message.replace(`"${name.toWellFormed()}"`, `"${name}"`)
  }
  return err
}

async function createPropagator(options) {
  // The core checks the options (the original's order, truthiness and messages), the queue
  // name and the broker settings before any I/O, then opens the state and the broker link.
  const host = hostOf(options)
  const dispatcher = createDispatcher(options)
  let handle
  try {
    handle = await native.createPropagator(options, host, dispatcher.channel)
  } catch (e) {
    throw createError(e, options)
  }
  // The addon's dispatcher is a weak threadsafe function and does not hold the event loop;
  // this timer does, while the propagator consumes, as amqplib's socket does for the
  // original: a receive-only worker stays up until close().
  let keepAlive = setInterval(() => {}, 1 << 30)

  // The core's first check (code, message), made before the arguments are read; the
  // answer cannot change after creation, so only a failing check is asked again.
  let managementOk = false
  function requireManagement() {
    if (managementOk) return
    call(() => handle.requireManagement())
    managementOk = true
  }

  async function ensure(input) {
    requireManagement()
    const args = {
      clientId: str(input.clientId, 'clientId'),
      secret: str(input.secret, 'secret'),
      targets: strList(input.targets, 'targets'),
      track: optStr(input.track, 'track'),
      allowedIps: optStrList(input.allowedIps, 'allowedIps'),
      expiresAt: optNumber(input.expiresAt, 'expiresAt'),
    }
    // Common case: the addon takes the client lock, hashes, names (or starts) the read of
    // the client's outstanding events and answers at once; the steps run here, in the
    // original's order, with the addon's verdict on that read between clients.get and the
    // first write.
    const s = call(() => handle.ensureStart(args.clientId, args.secret, args.targets, args.track, args.allowedIps, args.expiresAt))
    if (s !== null && s !== undefined) return ensureSteps(s, args, input.clientId)
    // The client lock is busy: the addon runs ensure and hands the steps over when its
    // turn comes.
    const caller = nextEnsureCaller()
    const direct = new Promise((resolve, reject) => ensureCallers.set(caller, { resolve, reject }))
    const viaAddon = callAsync(handle.ensure({ ...args, caller })).then((r) => r.op)
    try {
      const op = await Promise.race([direct, viaAddon])
      return { clientId: input.clientId, op }
    } finally {
      ensureCallers.delete(caller)
      // settled the same way, or already seen through `direct`
      viaAddon.catch(() => {})
    }
  }

  const { handlers, gates } = dispatcher
  /**
   * The steps of an ensure() the addon started, as `h.ensure` runs them: the caller's
   * values (`a`) and the addon's (`s`: `PropagationEnsureStart`).
   */
  async function ensureSteps(s, a, clientId) {
    const { ticket } = s
    try {
      if (typeof s.outstandingKey === 'string') {
        // The state goes through the client object: its read goes out next to
        // clients.get (one write for both with node-redis), and the addon judges the answer.
        const get = handlers['a.get'](s.which, a.clientId)
        const read = Promise.resolve()
          .then(() => handlers['r.hGetAll'](s.outstandingKey))
          .then(outstandingOf, (err) => ({ error: messageOf(err) }))
        const found = await get
        const r = await read
        const proceed = call(() => handle.ensureRead(ticket, r.outstanding ?? null, r.error ?? null))
        return await ensureFinish(s, a, found, proceed, clientId)
      }
      const found = await handlers['a.get'](s.which, a.clientId)
      let proceed = call(() => handle.ensureGate(ticket))
      if (proceed === null || proceed === undefined) proceed = await gates.wait(ticket)
      return await ensureFinish(s, a, found, proceed, clientId)
    } finally {
      handle.ensureEnd(ticket)
    }
  }

  /** After clients.get and the verdict: the retirement when it says stop, then the writes. */
  async function ensureFinish(s, a, found, proceed, clientId) {
    if (!proceed) await callAsync(handle.ensureRetire(s.ticket))
    const op = await ensureWrites(handlers, s.which, found, a.clientId, s.track, a.secret, a.allowedIps, s.expiresAt ?? null, a.targets, s.secretHash)
    return { clientId, op }
  }

  async function rotate(input) {
    requireManagement()
    const args = {
      clientId: str(input.clientId, 'clientId'),
      secret: str(input.secret, 'secret'),
      track: optStr(input.track, 'track'),
    }
    await callAsync(handle.rotate(args))
    return { clientId: input.clientId }
  }

  async function revoke(input) {
    requireManagement()
    const args = {
      clientId: str(input.clientId, 'clientId'),
      targets: strList(input.targets, 'targets'),
      track: optStr(input.track, 'track'),
    }
    await callAsync(handle.revoke(args))
    return { clientId: input.clientId }
  }

  async function sync() {
    requireManagement()
    const s = await callAsync(handle.sync())
    return {
      propagationsRead: s.propagationsRead,
      targetsPublished: s.targetsPublished,
      targetsRetrying: s.targetsRetrying,
      durationMs: s.durationMs,
    }
  }

  async function close() {
    try {
      await handle.close()
    } finally {
      if (keepAlive) {
        clearInterval(keepAlive)
        keepAlive = null
      }
    }
  }

  const propagator = { close, ensure, rotate, revoke, sync }
  // Where the state went (`client`, `native`, `redis`, `memory`): for tests and diagnostics,
  // under a symbol so the object keeps the original's keys.
  Object.defineProperty(propagator, REDIS_MODE, { value: handle.redisMode })
  return propagator
}

const REDIS_MODE = Symbol.for('authcore.propagation.redisMode')

module.exports = {
  createPropagator,
  HmacPropagationError,
  buildQueueName,
  DEFAULT_AMQP_VHOST,
}
