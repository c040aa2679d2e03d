// A faithful JavaScript reimplementation of the hot paths of
// @naskot/node-hmac-auth-core-propagation 1.0.0 (not on npm), written from the spec
// /work/shared/specs/naskot-propagation.md (itself written from the upstream sources):
// the baseline of the propagation benchmark. Section numbers (§) are the spec's.
//
// Kept: options as the original takes them (§2.2), the amqplib transport (confirm channel
// for publishing, a separate consume channel with prefetch(1), durable queues, persistent
// JSON messages, declared-queue cache, deferred consume: §3.1), the wire v1 encoders and
// the decode/shape checks (§3.2-3.5), the cursor (§3.6), the ack store as separate
// node-redis commands without MULTI (§3.6), the receive pipeline (§3.5), the ACK return
// path (§3.8), `ensure` with the HEAD local apply (§2.5) and `sync` (§5.1).
// Left out (not on the measured path): rotate/revoke, reconnect with backoff (§3.1: a
// broker failure here just fails the run), option validation messages, and the logger
// lines' exact texts (the logger is a no-op in the benchmark, as by default).
import { randomUUID, timingSafeEqual } from 'node:crypto'
import amqp from 'amqplib'
// The role of @naskot/node-hmac-auth-core (hashClientSecret, the auth instances) is played
// by its drop-in @authcore/node-hmac-auth-core, as for a user of the original.
import { hashClientSecret } from '@authcore/node-hmac-auth-core'

const DEFAULT_AMQP_VHOST = 'hmac-credentials'
const ACK_TTL_SECONDS = 604800 // §2.2: 7 days
const noop = () => {}
const NOOP_LOGGER = { info: noop, warn: noop, error: noop }

// ------------------------------------------------------------------ wire (§2.1, §3.2-3.5)

export function buildQueueName(amqpQueue) {
  if (!/^[A-Za-z0-9-]+$/.test(amqpQueue)) throw new Error(`Invalid amqpQueue "${amqpQueue}": must match [A-Za-z0-9-]+`)
  return `hmac-${amqpQueue}.queue`
}

// §3.3: key order as emitted; `allowedIps` omitted when undefined (JSON.stringify drops it).
export function encodeApplyEvent(e) {
  return JSON.stringify({
    eventId: e.eventId,
    ts: e.ts,
    propagationSecret: e.propagationSecret,
    senderAmqpQueue: e.senderAmqpQueue,
    op: e.op,
    track: e.track,
    clientId: e.clientId,
    payload: { secretHash: e.payload.secretHash, allowedIps: e.payload.allowedIps, expiresAt: e.payload.expiresAt ?? null },
  })
}

function encodeAckEvent(e) {
  return JSON.stringify({
    eventId: e.eventId,
    ts: e.ts,
    propagationSecret: e.propagationSecret,
    senderAmqpQueue: e.senderAmqpQueue,
    op: 'credential.ack',
    ackEventId: e.ackEventId,
    ackResult: e.ackResult,
    ackReason: e.ackReason ?? null,
  })
}

// §3.5 step 1: JSON.parse, then exactly these shape checks, in this order.
function decodeEvent(text) {
  const v = JSON.parse(text)
  if (v === null || typeof v !== 'object') throw new Error('Event is not an object')
  if (typeof v.eventId !== 'string' || v.eventId === '') throw new Error('Event has no eventId')
  if (typeof v.ts !== 'number' || !Number.isFinite(v.ts)) throw new Error('Event has no valid ts')
  if (typeof v.propagationSecret !== 'string') throw new Error('Event has no propagationSecret')
  if (typeof v.senderAmqpQueue !== 'string' || v.senderAmqpQueue === '') throw new Error('Event has no senderAmqpQueue')
  if (typeof v.op !== 'string') throw new Error('Event has no op')
  return v
}

// §3.5 step 2: UTF-8 byte lengths first, then crypto.timingSafeEqual.
function propagationSecretMatches(received, own) {
  const a = Buffer.from(received, 'utf8')
  const b = Buffer.from(own, 'utf8')
  if (a.length !== b.length) return false
  return timingSafeEqual(a, b)
}

// ------------------------------------------------------------------ cursor (§3.6)

const cursorKey = (track, clientId) => `propagation:last-seen:${track}:${clientId}`

async function readCursor(redis, track, clientId) {
  const h = await redis.hGetAll(cursorKey(track, clientId))
  if (!h || Object.keys(h).length === 0) return null
  const ts = Number(h.ts)
  if (!Number.isFinite(ts) || !h.eventId) return null
  return { ts, eventId: h.eventId }
}

function isStrictlyNewer(current, incoming) {
  if (current === null) return true
  if (incoming.ts > current.ts) return true
  if (incoming.ts < current.ts) return false
  return incoming.eventId > current.eventId
}

async function writeCursor(redis, track, clientId, c) {
  await redis.hSet(cursorKey(track, clientId), { ts: String(c.ts), eventId: c.eventId })
}

// ------------------------------------------------------------------ ack store (§3.6; no MULTI)

const ackKey = (eventId) => `propagation:ack:${eventId}`
const pendingKey = (clientId) => `propagation:client-pending:${clientId}`
const resultsKey = (clientId) => `propagation:client-results:${clientId}`

async function recordPublishedEvent(redis, eventId, rec) {
  await redis.hSet(ackKey(eventId), {
    clientId: rec.clientId,
    targetAmqpQueue: rec.targetAmqpQueue,
    attemptCount: String(rec.attemptCount),
    sentAt: String(rec.sentAt),
  })
  await redis.expire(ackKey(eventId), ACK_TTL_SECONDS)
  await redis.sAdd(pendingKey(rec.clientId), eventId)
  await redis.expire(pendingKey(rec.clientId), ACK_TTL_SECONDS)
}

async function readPublishedEvent(redis, eventId) {
  const h = await redis.hGetAll(ackKey(eventId))
  if (!h || !h.clientId || !h.targetAmqpQueue) return null
  const attemptCount = Number(h.attemptCount)
  const sentAt = Number(h.sentAt)
  if (!Number.isFinite(attemptCount) || !Number.isFinite(sentAt)) return null
  return { clientId: h.clientId, targetAmqpQueue: h.targetAmqpQueue, attemptCount, sentAt }
}

async function recordTargetResult(redis, clientId, target, result, eventId) {
  await redis.hSet(resultsKey(clientId), { [target]: result })
  await redis.expire(resultsKey(clientId), ACK_TTL_SECONDS)
  await redis.sRem(pendingKey(clientId), eventId)
  await redis.del(ackKey(eventId))
}

function aggregateFinalStatus(results) {
  const values = Object.values(results)
  if (values.length === 0 || values.every((v) => v === 'success')) return 'success'
  if (values.every((v) => v === 'error')) return 'error'
  return 'partial'
}

// ------------------------------------------------------------------ transport (§3.1)

async function createTransport(options, onMessage) {
  const ownQueue = buildQueueName(options.amqpQueue)
  const conn = await amqp.connect({
    protocol: options.amqpProtocol,
    hostname: options.amqpHost,
    port: options.amqpPort,
    username: options.amqpUser,
    password: options.amqpPassword,
    vhost: options.amqpVhost ?? DEFAULT_AMQP_VHOST,
    heartbeat: 10,
  })
  const confirm = await conn.createConfirmChannel()
  const consume = await conn.createChannel()
  await consume.prefetch(1)
  await consume.assertQueue(ownQueue, { durable: true })
  const declared = new Set() // per connection life (reset on reconnect, which we leave out)
  let handler = onMessage

  return {
    setHandler(h) {
      handler = h
    },
    // Newest version: basic.consume only once the real handler is installed.
    async startConsume() {
      await consume.consume(ownQueue, async (msg) => {
        if (msg === null) return
        try {
          await handler(msg.content)
          consume.ack(msg)
        } catch {
          consume.nack(msg, false, true)
        }
      })
    },
    async ensureQueueDeclared(queue) {
      if (declared.has(queue)) return
      await confirm.assertQueue(queue, { durable: true })
      declared.add(queue)
    },
    // Resolves on the broker's confirm; the `false` return of publish is ignored.
    publishToQueue(queue, body) {
      return new Promise((resolve, reject) => {
        confirm.publish('', queue, Buffer.from(body, 'utf8'), { persistent: true, contentType: 'application/json' }, (err) =>
          err ? reject(err) : resolve(),
        )
      })
    },
    async close() {
      for (const c of [consume, confirm, conn]) {
        try {
          await c.close()
        } catch {
          // ignored, as the original does
        }
      }
    },
  }
}

// ------------------------------------------------------------------ createPropagator (§2.2)

export async function createPropagator(options) {
  const { redis, management } = options
  const logger = options.logger ?? NOOP_LOGGER
  const authFor = (track) => (track === 'http' ? options.hmacHttpAuth : options.hmacMessageAuth)

  const transport = await createTransport(options, async () => {})

  // §3.5 publishAckBack
  async function publishAckBack(event, ackResult, ackReason) {
    let secret = ''
    if (management) {
      try {
        secret = (await management.fetchSourcePropagationSecret(event.senderAmqpQueue)) || ''
      } catch (e) {
        logger.warn(`[propagation] fetchSourcePropagationSecret failed for ${event.senderAmqpQueue}: ${e.message}`)
      }
    }
    if (secret === '') logger.warn(`[propagation] ack to ${event.senderAmqpQueue} for ${event.clientId} has no source secret; receiver will warn-drop`)
    const ack = {
      eventId: randomUUID(),
      ts: Date.now(),
      propagationSecret: secret,
      senderAmqpQueue: options.amqpQueue,
      ackEventId: event.eventId,
      ackResult,
      ackReason,
    }
    await transport.publishToQueue(buildQueueName(event.senderAmqpQueue), encodeAckEvent(ack))
  }

  // §3.5 handleApplyEvent
  async function handleApplyEvent(event) {
    const incoming = { ts: event.ts, eventId: event.eventId }
    const current = await readCursor(redis, event.track, event.clientId)
    if (!isStrictlyNewer(current, incoming)) {
      logger.info(`[propagation] dropping stale event ${event.eventId} for ${event.clientId}`)
      await publishAckBack(event, 'applied', null)
      return
    }
    const auth = authFor(event.track)
    if (!auth) {
      await publishAckBack(event, 'error', `no ${event.track} auth instance configured`)
      return
    }
    if (event.op === 'credential.delete') await auth.clients.delete(event.clientId)
    else await auth.clients.setSecretHash(event.clientId, event.payload.secretHash, event.payload.expiresAt ?? undefined, event.payload.allowedIps)
    await writeCursor(redis, event.track, event.clientId, incoming)
    await publishAckBack(event, 'applied', null)
  }

  // §3.8 handleAckEvent
  async function handleAckEvent(ack) {
    const rec = await readPublishedEvent(redis, ack.ackEventId)
    if (rec === null) {
      logger.warn(`[propagation] received ack for unknown eventId=${ack.ackEventId}, dropping`)
      return
    }
    const at = Date.now()
    const isSuccess = ack.ackResult === 'applied'
    await recordTargetResult(redis, rec.clientId, rec.targetAmqpQueue, isSuccess ? 'success' : 'error', ack.ackEventId)
    if (!management) return
    try {
      if (isSuccess) await management.markTargetSuccess({ clientId: rec.clientId, targetAmqpQueue: rec.targetAmqpQueue, appliedAt: at })
      else await management.markTargetError({ clientId: rec.clientId, targetAmqpQueue: rec.targetAmqpQueue, reason: ack.ackReason ?? 'unknown', failedAt: at })
      const remaining = await redis.sCard(pendingKey(rec.clientId))
      if (remaining === 0) {
        const results = (await redis.hGetAll(resultsKey(rec.clientId))) ?? {}
        const finalStatus = aggregateFinalStatus(results)
        await management.markCredentialFullyPropagated({ clientId: rec.clientId, finalStatus, at })
        await redis.del(pendingKey(rec.clientId)) // clearClientAggregates: pending, then results
        await redis.del(resultsKey(rec.clientId))
      }
    } catch (e) {
      logger.error(`[propagation] management callback failed during ack handling for ${rec.clientId}: ${e.message}`)
    }
  }

  // §3.5 the consume handler: decode → secret check → dispatch on op.
  transport.setHandler(async (content) => {
    let event
    try {
      event = decodeEvent(content.toString('utf8'))
    } catch (e) {
      logger.warn(`[propagation] dropping malformed event: ${e.message}`)
      return // acked (dropped), no ACK event
    }
    if (!propagationSecretMatches(event.propagationSecret, options.propagationSecret)) {
      logger.warn(`[propagation] propagation-secret-mismatch from ${event.senderAmqpQueue}, dropping eventId=${event.eventId}`)
      return
    }
    if (event.op === 'credential.ack') {
      await handleAckEvent(event) // a throw escapes → nack + requeue
      return
    }
    if (event.op === 'credential.create' || event.op === 'credential.update' || event.op === 'credential.delete') {
      try {
        await handleApplyEvent(event)
      } catch (e) {
        logger.error(`[propagation] apply failed for ${event.clientId}, requeue`)
        throw e
      }
      return
    }
    logger.warn(`[propagation] unknown event op="${event.op}", dropping`)
  })
  await transport.startConsume()

  function requireManagement() {
    if (!management) throw new Error('ensure/rotate/revoke/sync require the management adapter to be configured in createPropagator options')
  }

  // §2.5 ensure, HEAD behaviour (local apply at once); never publishes.
  async function ensure(input) {
    requireManagement()
    const track = input.track ?? 'http'
    const auth = authFor(track)
    if (!auth) throw new Error(`No ${track} auth instance configured`)
    const existing = await auth.clients.get(input.clientId)
    const op = existing ? 'credential.update' : 'credential.create'
    await management.upsertCredentialWithTargets({
      clientId: input.clientId,
      track,
      op,
      secretPlain: input.secret,
      allowedIps: input.allowedIps,
      expiresAt: input.expiresAt ?? null,
      targets: input.targets,
    })
    const hash = hashClientSecret(input.secret, auth.secretToken)
    await auth.clients.setSecretHash(input.clientId, hash, input.expiresAt ?? undefined, input.allowedIps)
    return { clientId: input.clientId, op }
  }

  // §5.1 sync: propagations in order, sequentially; per propagation the local apply, then
  // per target, sequentially: declare (cached), publish + confirm, recordPublishedEvent,
  // markTargetSent.
  async function sync() {
    requireManagement()
    const startedAt = Date.now()
    const pending = await management.fetchPendingPropagations()
    let targetsPublished = 0
    let targetsRetrying = 0
    for (const p of pending) {
      const auth = authFor(p.track)
      if (!auth) throw new Error(`No ${p.track} auth instance configured for propagation of ${p.clientId}`)
      let secretHash
      if (p.op === 'credential.delete') {
        await auth.clients.delete(p.clientId)
        secretHash = ''
      } else {
        if (p.secretPlain === null || p.secretPlain === undefined) throw new Error(`Plain is null for non-delete op ${p.op} on ${p.clientId}`)
        secretHash = hashClientSecret(p.secretPlain, auth.secretToken)
        await auth.clients.setSecretHash(p.clientId, secretHash, p.expiresAt ?? undefined, p.allowedIps)
      }
      for (const t of p.pendingTargets) {
        const eventId = randomUUID()
        const sentAt = Date.now()
        const body = encodeApplyEvent({
          eventId,
          ts: sentAt,
          propagationSecret: t.propagationSecret,
          senderAmqpQueue: options.amqpQueue,
          op: p.op,
          track: p.track,
          clientId: p.clientId,
          payload: { secretHash, allowedIps: p.allowedIps, expiresAt: p.expiresAt ?? null },
        })
        try {
          const queue = buildQueueName(t.targetAmqpQueue)
          await transport.ensureQueueDeclared(queue)
          await transport.publishToQueue(queue, body)
          await recordPublishedEvent(redis, eventId, { clientId: p.clientId, targetAmqpQueue: t.targetAmqpQueue, attemptCount: 1, sentAt })
          await management.markTargetSent({ clientId: p.clientId, targetAmqpQueue: t.targetAmqpQueue, sentAt, attemptCount: 1 })
          targetsPublished++
        } catch (e) {
          logger.warn(`[propagation] publish to ${t.targetAmqpQueue} for ${p.clientId} failed: ${e.message}`)
          targetsRetrying++
        }
      }
    }
    return { propagationsRead: pending.length, targetsPublished, targetsRetrying, durationMs: Date.now() - startedAt }
  }

  return { close: () => transport.close(), ensure, sync }
}
