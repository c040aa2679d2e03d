// End to end over a real RabbitMQ (vhost hmac-credentials) and a real Redis: three peers
// in this process, each with its own core HMAC instance and its own propagation state.
//   mgmt: full mode; core on a node-redis client (db 0); propagation on a node-redis client (db 0),
//         every command through the client object (`nativeRedis: false`)
//   b:    full mode; core on `redis://…/1`;           propagation on `redis://…/1` (URL string)
//   c:    receive-only; core on `memory://`;          propagation on a node-redis client (db 2),
//         which the probe confirms: the state goes over a native connection to db 2
// Peers use distinct Redis databases because the propagation keys sit at the Redis root
// (two peers sharing one database would share cursors, as with the original).
// Fails (does not skip) when RabbitMQ or Redis is down.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { createClient } from 'redis'
import { hashClientSecret, HmacAuthError, initializeHmacHttpAuth } from '@authcore/node-hmac-auth-core'
import { buildQueueName, createPropagator, HmacPropagationError } from '@authcore/node-hmac-auth-core-propagation'

import { AMQP, MemoryManagement, REDIS_HOST, captureLogger, deleteKeys, deleteQueues, listQueues, runSuffix, sleep, waitFor } from './helpers.mjs'

const sfx = runSuffix()
const MGMT = `mgmt-${sfx}`
const B = `b-${sfx}`
const C = `c-${sfx}`
const SECRET = { [MGMT]: `secret-of-${MGMT}`, [B]: `secret-of-${B}`, [C]: `secret-of-${C}` }
const PEPPER = { [MGMT]: `pepper-of-${MGMT}`, [B]: `pepper-of-${B}`, [C]: `pepper-of-${C}` }
const NOT_CONFIGURED =
  'ensure/rotate/revoke/sync require the management adapter to be configured in createPropagator options'

const peers = {}
const redis = {}
const clients = []
const id = (name) => `${name}_${sfx}`

async function redisDb(db) {
  // a Redis that is down fails the run at once (no reconnect loop)
  const r = createClient({ url: `redis://${REDIS_HOST}/${db}`, socket: { connectTimeout: 2000, reconnectStrategy: false } })
  r.on('error', () => {})
  await r.connect()
  clients.push(r)
  return r
}

before(async () => {
  redis.mgmt = await redisDb(0)
  redis.b = await redisDb(1)
  redis.c = await redisDb(2)

  const mgmtAuth = initializeHmacHttpAuth({ redis: redis.mgmt, namespace: `hmac:http:${MGMT}`, secretToken: PEPPER[MGMT] })
  const bAuth = initializeHmacHttpAuth({ redis: `redis://${REDIS_HOST}/1`, namespace: `hmac:http:${B}`, secretToken: PEPPER[B] })
  const cAuth = initializeHmacHttpAuth({ redis: `memory://${C}`, namespace: `hmac:http:${C}`, secretToken: PEPPER[C] })

  const start = async (name, options) => {
    const { lines, logger } = captureLogger()
    const propagator = await createPropagator({
      ...AMQP,
      amqpQueue: name,
      propagationSecret: SECRET[name],
      logger,
      ...options,
    })
    peers[name] = { propagator, lines, auth: options.hmacHttpAuth, management: options.management }
    return peers[name]
  }
  await start(MGMT, {
    redis: redis.mgmt,
    nativeRedis: false,
    hmacHttpAuth: mgmtAuth,
    management: new MemoryManagement({ [MGMT]: SECRET[MGMT], [B]: SECRET[B], [C]: SECRET[C] }),
  })
  await start(B, {
    redis: `redis://${REDIS_HOST}/1`,
    hmacHttpAuth: bAuth,
    management: new MemoryManagement({ [MGMT]: SECRET[MGMT], [B]: SECRET[B] }),
  })
  await start(C, { redis: redis.c, hmacHttpAuth: cAuth })
})

after(async () => {
  await Promise.allSettled(Object.values(peers).map((p) => p.propagator.close()))
  const cleanup = [deleteQueues([MGMT, B, C].map(buildQueueName))]
  for (const r of Object.values(redis)) {
    cleanup.push(
      (async () => {
        // ack records of events still outstanding (the receive-only target never ACKs)
        // (and the orphan of the failed recording in the Redis-error test)
        for await (const key of r.scanIterator({ MATCH: 'propagation:ack:*', COUNT: 1000 })) {
          if ((await r.hGet(key, 'clientId'))?.endsWith(sfx)) await r.del(key)
        }
        await deleteKeys(r, `*${sfx}*`)
      })(),
    )
  }
  await Promise.allSettled(cleanup)
  await Promise.allSettled(clients.map((c) => c.quit()))
})

const REDIS_MODE = Symbol.for('authcore.propagation.redisMode')

test('where each peer keeps its state: client object, URL, or the client\'s Redis natively', () => {
  assert.equal(peers[MGMT].propagator[REDIS_MODE], 'client')
  assert.equal(peers[B].propagator[REDIS_MODE], 'redis')
  assert.equal(peers[C].propagator[REDIS_MODE], 'native')
  // the original's keys only
  assert.deepEqual(Object.keys(peers[C].propagator), ['close', 'ensure', 'rotate', 'revoke', 'sync'])
})

const hashOn = (name, clientId) => peers[name].auth.clients.getSecretHash(clientId)

describe('three peers over RabbitMQ', { timeout: 30000 }, () => {
  const X = id('x')

  test('ensure: upsert with the original input, local apply at once, nothing published yet', async () => {
    const { propagator, management } = peers[MGMT]
    const r = await propagator.ensure({ clientId: X, secret: 'plain-A', targets: [B, C], allowedIps: ['10.0.0.0/8'] })
    assert.deepEqual(r, { clientId: X, op: 'credential.create' })
    assert.deepEqual(Object.keys(r), ['clientId', 'op'])

    const [upsert] = management.callsOf('upsertCredentialWithTargets')
    assert.deepEqual(Object.keys(upsert), ['clientId', 'track', 'op', 'secretPlain', 'allowedIps', 'expiresAt', 'targets'])
    assert.deepEqual(upsert, {
      clientId: X,
      track: 'http',
      op: 'credential.create',
      secretPlain: 'plain-A',
      allowedIps: ['10.0.0.0/8'],
      expiresAt: null,
      targets: [B, C],
    })

    // Applied locally with this peer's pepper; read through the API and the core's Redis record.
    const expected = hashClientSecret('plain-A', PEPPER[MGMT])
    assert.equal(await hashOn(MGMT, X), expected)
    const record = JSON.parse(await redis.mgmt.hGet(`hmac:http:${MGMT}:clients`, X))
    assert.equal(record.secretHash, expected)
    assert.deepEqual(record.allowedIps, ['10.0.0.0/8'])

    // ensure never publishes
    await sleep(100)
    assert.equal(await hashOn(B, X), null)
    assert.equal(await hashOn(C, X), null)
  })

  test('sync: one propagation, two targets published; both targets store the identical hash', async () => {
    const { propagator, management } = peers[MGMT]
    const s = await propagator.sync()
    assert.equal(s.propagationsRead, 1)
    assert.equal(s.targetsPublished, 2)
    assert.equal(s.targetsRetrying, 0)
    assert.equal(typeof s.durationMs, 'number')

    const expected = hashClientSecret('plain-A', PEPPER[MGMT])
    await waitFor('the hash on b and c', async () => (await hashOn(B, X)) === expected && (await hashOn(C, X)) === expected)
    assert.notEqual(expected, hashClientSecret('plain-A', PEPPER[B]), 'the hash is shipped, never recomputed')

    // one call per target; the calls of one sync start in broker-confirm order (docs/compat.md)
    const sent = management.callsOf('markTargetSent')
    assert.deepEqual(sent.map((i) => i.targetAmqpQueue).sort(), [B, C].sort())
    for (const i of sent) {
      assert.deepEqual(Object.keys(i), ['clientId', 'targetAmqpQueue', 'sentAt', 'attemptCount'])
      assert.equal(i.clientId, X)
      assert.equal(i.attemptCount, 1)
      assert.ok(Number.isInteger(i.sentAt) && Math.abs(i.sentAt - Date.now()) < 60000)
    }
  })

  test('ACK bookkeeping: the full target succeeds, the receive-only target stays outstanding', async () => {
    const { management, lines } = peers[MGMT]
    await waitFor('markTargetSuccess for b', () => management.statusOf(X, B) === 'success')
    const [success] = management.callsOf('markTargetSuccess')
    assert.deepEqual(Object.keys(success), ['clientId', 'targetAmqpQueue', 'appliedAt'])
    assert.equal(success.clientId, X)
    assert.equal(success.targetAmqpQueue, B)
    // b looked up mgmt's secret to sign its ACK; c (receive-only) sent "" and mgmt dropped it
    assert.deepEqual(peers[B].management.callsOf('fetchSourcePropagationSecret'), [MGMT])
    await waitFor('the dropped ACK of c', () => lines.some((l) => l.startsWith(`warn [propagation] propagation-secret-mismatch from ${C}, dropping eventId=`)))
    await waitFor('the warning of c', () => peers[C].lines.includes(`warn [propagation] ack to ${MGMT} for ${X} has no source secret; receiver will warn-drop`))
    await sleep(150)
    assert.equal(management.statusOf(X, C), 'sent')
    assert.equal(management.callsOf('markCredentialFullyPropagated').length, 0)
    assert.equal(management.credentials.get(X).secretPlain, 'plain-A', 'the plain is kept while c is outstanding')
  })

  test('Redis layout (§3.6): cursors on the receivers, ack store on the sender', async () => {
    // sender: one result, one outstanding event (c's), its ack record with the 4 fields and the 7-day TTL
    // (the ack store forgets b's event after its callbacks ran: wait for it)
    await waitFor('b\'s event retired from the ack store', async () => (await redis.mgmt.sCard(`propagation:client-pending:${X}`)) === 1)
    assert.deepEqual({ ...(await redis.mgmt.hGetAll(`propagation:client-results:${X}`)) }, { [B]: 'success' })
    const pending = await redis.mgmt.sMembers(`propagation:client-pending:${X}`)
    assert.equal(pending.length, 1)
    const [eventC] = pending
    assert.match(eventC, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const ack = { ...(await redis.mgmt.hGetAll(`propagation:ack:${eventC}`)) }
    assert.deepEqual(Object.keys(ack).sort(), ['attemptCount', 'clientId', 'sentAt', 'targetAmqpQueue'])
    assert.equal(ack.clientId, X)
    assert.equal(ack.targetAmqpQueue, C)
    assert.equal(ack.attemptCount, '1')
    assert.match(ack.sentAt, /^\d{13}$/)
    for (const key of [`propagation:ack:${eventC}`, `propagation:client-pending:${X}`, `propagation:client-results:${X}`]) {
      const ttl = await redis.mgmt.ttl(key)
      assert.ok(ttl > 604000 && ttl <= 604800, `${key} ttl ${ttl}`)
    }
    // receivers: the cursor {ts, eventId}, no TTL; c's cursor is the outstanding event
    const curB = { ...(await redis.b.hGetAll(`propagation:last-seen:http:${X}`)) }
    const curC = { ...(await redis.c.hGetAll(`propagation:last-seen:http:${X}`)) }
    for (const cur of [curB, curC]) {
      assert.deepEqual(Object.keys(cur).sort(), ['eventId', 'ts'])
      assert.match(cur.ts, /^\d{13}$/)
    }
    assert.equal(curC.eventId, eventC)
    assert.equal(curC.ts, ack.sentAt)
    assert.equal(await redis.c.ttl(`propagation:last-seen:http:${X}`), -1)
    // nothing at the Redis root of the wrong peer
    assert.equal(await redis.mgmt.exists(`propagation:last-seen:http:${X}`), 0)
    assert.equal(await redis.b.exists(`propagation:client-pending:${X}`), 0)
  })

  test('a credential whose targets are all full-mode completes: fully propagated, aggregates cleared', async () => {
    const Y = id('y')
    const { propagator, management } = peers[MGMT]
    const expiresAt = 4102444800000
    assert.deepEqual(await propagator.ensure({ clientId: Y, secret: 'plain-Y', targets: [B], expiresAt }), {
      clientId: Y,
      op: 'credential.create',
    })
    const s = await propagator.sync()
    assert.equal(s.propagationsRead, 1, 'X is no longer pending (publish-once)')
    assert.equal(s.targetsPublished, 1)
    await waitFor('markCredentialFullyPropagated for y', () => management.fully.some((f) => f.clientId === Y))
    const fully = management.fully.find((f) => f.clientId === Y)
    assert.deepEqual(Object.keys(fully), ['clientId', 'finalStatus', 'at'])
    assert.equal(fully.finalStatus, 'success')
    assert.equal(management.credentials.get(Y).secretPlain, null, 'the adapter cleared the plain')
    // the ack store clears the aggregates just after markCredentialFullyPropagated returned
    await waitFor('aggregates of y cleared', async () =>
      (await redis.mgmt.exists(`propagation:client-pending:${Y}`)) === 0 &&
      (await redis.mgmt.exists(`propagation:client-results:${Y}`)) === 0,
    )
    // the expiry travelled with the hash
    const record = await peers[B].auth.clients.get(Y)
    assert.equal(record.secretHash, hashClientSecret('plain-Y', PEPPER[MGMT]))
    assert.equal(record.expiresAt, expiresAt)
    // X is still incomplete (c never ACKs with a valid secret)
    assert.ok(!management.fully.some((f) => f.clientId === X))
  })

  test('ensure on an existing client is an update', async () => {
    const Y = id('y')
    const { propagator, management } = peers[MGMT]
    assert.deepEqual(await propagator.ensure({ clientId: Y, secret: 'plain-Y', targets: [] }), { clientId: Y, op: 'credential.update' })
    assert.equal(management.callsOf('upsertCredentialWithTargets').at(-1).op, 'credential.update')
  })

  test('rotate: new hash locally at once, then on every target', async () => {
    const { propagator, management } = peers[MGMT]
    const before = await hashOn(MGMT, X)
    assert.deepEqual(await propagator.rotate({ clientId: X, secret: 'plain-A-2' }), { clientId: X })
    assert.deepEqual(management.callsOf('rotateCredentialSecret').at(-1), { clientId: X, track: 'http', secretPlain: 'plain-A-2' })
    const expected = hashClientSecret('plain-A-2', PEPPER[MGMT])
    assert.notEqual(expected, before)
    assert.equal(await hashOn(MGMT, X), expected)
    const pending = await management.fetchPendingPropagations()
    assert.equal(pending.find((p) => p.clientId === X).op, 'credential.update')
    const s = await propagator.sync()
    assert.equal(s.targetsPublished, 2)
    await waitFor('the new hash on b and c', async () => (await hashOn(B, X)) === expected && (await hashOn(C, X)) === expected)
    // allowedIps travelled with the first event and are kept by an event without them
    assert.deepEqual((await peers[C].auth.clients.get(X)).allowedIps, ['10.0.0.0/8'])
    // b's ACK of the rotation before the revoke below: a late one would mark b "success"
    // after revoke set it back to pending (a race of the original's adapter contract).
    await waitFor("b's ACK of the rotation", () => management.statusOf(X, B) === 'success')
  })

  test('revoke: deleted locally at once, then on every target', async () => {
    const { propagator, management } = peers[MGMT]
    assert.deepEqual(await propagator.revoke({ clientId: X, targets: [B, C] }), { clientId: X })
    const upsert = management.callsOf('upsertCredentialWithTargets').at(-1)
    assert.deepEqual(Object.keys(upsert), ['clientId', 'track', 'op', 'secretPlain', 'targets'])
    assert.deepEqual(upsert, { clientId: X, track: 'http', op: 'credential.delete', secretPlain: null, targets: [B, C] })
    assert.equal(await hashOn(MGMT, X), null)
    const s = await propagator.sync()
    assert.equal(s.targetsPublished, 2)
    await waitFor('x gone from b and c', async () => (await hashOn(B, X)) === null && (await hashOn(C, X)) === null)
    // B's ACK (markTargetSuccess on this peer) must land here, not in a later test's count.
    await waitFor("b's ACK of the delete", () => management.statusOf(X, B) === 'success')
  })

  test('receive-only peer: ensure/rotate/revoke/sync reject MANAGEMENT_NOT_CONFIGURED first', async () => {
    const { propagator } = peers[C]
    const calls = [
      () => propagator.ensure({ clientId: X, secret: 's', targets: [] }),
      () => propagator.rotate({ clientId: X, secret: 's' }),
      () => propagator.revoke({ clientId: X, targets: [] }),
      () => propagator.sync(),
      () => propagator.ensure(undefined),
    ]
    for (const f of calls) {
      await assert.rejects(f(), (e) => {
        assert.ok(e instanceof HmacPropagationError)
        assert.equal(e.code, 'MANAGEMENT_NOT_CONFIGURED')
        assert.equal(e.message, NOT_CONFIGURED)
        assert.equal(e.name, 'HmacPropagationError')
        return true
      })
    }
  })

  test('rotate of an unknown client: UNKNOWN_CLIENT, no callback', async () => {
    const { propagator, management } = peers[MGMT]
    const n = management.calls.length
    await assert.rejects(propagator.rotate({ clientId: id('nobody'), secret: 's' }), (e) => {
      assert.ok(e instanceof HmacPropagationError)
      assert.equal(e.code, 'UNKNOWN_CLIENT')
      assert.equal(e.message, `rotate: clientId "${id('nobody')}" does not exist`)
      return true
    })
    assert.equal(management.calls.length, n)
  })

  test('a track without an auth instance: INVALID_OPTIONS from ensure and rotate, plain Error from sync', async () => {
    const { propagator, management } = peers[MGMT]
    for (const f of [
      () => propagator.ensure({ clientId: X, secret: 's', targets: [], track: 'message' }),
      () => propagator.rotate({ clientId: X, secret: 's', track: 'message' }),
    ]) {
      await assert.rejects(f(), (e) => {
        assert.ok(e instanceof HmacPropagationError)
        assert.equal(e.code, 'INVALID_OPTIONS')
        assert.equal(e.message, 'No message auth instance configured')
        return true
      })
    }
    const M = id('m')
    const real = management.fetchPendingPropagations
    management.fetchPendingPropagations = async () => [
      { clientId: M, track: 'message', op: 'credential.create', secretPlain: 'p', expiresAt: null, pendingTargets: [] },
    ]
    try {
      await assert.rejects(propagator.sync(), (e) => {
        assert.equal(Object.getPrototypeOf(e), Error.prototype)
        assert.equal(e.message, `No message auth instance configured for propagation of ${M}`)
        return true
      })
      management.fetchPendingPropagations = async () => [
        { clientId: M, track: 'http', op: 'credential.update', secretPlain: null, expiresAt: null, pendingTargets: [] },
      ]
      await assert.rejects(propagator.sync(), (e) => {
        assert.equal(Object.getPrototypeOf(e), Error.prototype)
        assert.equal(e.message, `Plain is null for non-delete op credential.update on ${M}`)
        return true
      })
    } finally {
      management.fetchPendingPropagations = real
    }
  })

  test('errors thrown by JS callbacks reach the caller unchanged (same object)', async () => {
    const { propagator, management } = peers[MGMT]
    const boom = new TypeError('db down')
    management.fail = { name: 'upsertCredentialWithTargets', error: boom }
    try {
      await assert.rejects(propagator.ensure({ clientId: id('e'), secret: 's', targets: [] }), (e) => e === boom)
      await assert.rejects(propagator.revoke({ clientId: id('e'), targets: [] }), (e) => e === boom)
      const notAnError = { reason: 'a plain object' }
      management.fail = { name: 'upsertCredentialWithTargets', error: notAnError }
      await assert.rejects(propagator.ensure({ clientId: id('e'), secret: 's', targets: [] }), (e) => e === notAnError)
      management.fail = { name: 'upsertCredentialWithTargets', error: 'a string' }
      await assert.rejects(propagator.ensure({ clientId: id('e'), secret: 's', targets: [] }), (e) => e === 'a string')
      const rot = new Error('rotate failed')
      management.fail = { name: 'rotateCredentialSecret', error: rot }
      await assert.rejects(propagator.rotate({ clientId: id('y'), secret: 's' }), (e) => e === rot)
      const fetch = new RangeError('fetch failed')
      management.fail = { name: 'fetchPendingPropagations', error: fetch }
      await assert.rejects(propagator.sync(), (e) => e === fetch)
    } finally {
      management.fail = null
    }
    // the upsert failed: nothing applied locally
    assert.equal(await hashOn(MGMT, id('e')), null)
    // auth.clients errors of the core escape too (clients.get("") is MISSING_CLIENT_ID)
    await assert.rejects(propagator.ensure({ clientId: '', secret: 's', targets: [] }), (e) => {
      assert.ok(e instanceof HmacAuthError, String(e))
      assert.equal(e.code, 'MISSING_CLIENT_ID')
      return true
    })
    // a failed markTargetSent counts the target as retrying, the error is logged
    const Z = id('z')
    await propagator.ensure({ clientId: Z, secret: 'plain-Z', targets: [B] })
    management.fail = { name: 'markTargetSent', error: new Error('cannot mark') }
    try {
      const s = await propagator.sync()
      assert.equal(s.targetsRetrying, 1)
      assert.equal(s.targetsPublished, 0)
    } finally {
      management.fail = null
    }
    await waitFor('the warning', () => peers[MGMT].lines.includes(`warn [propagation] publish to ${B} for ${Z} failed: cannot mark`))
    // The event itself was published and recorded: b applies it and its ACK completes the
    // bookkeeping (markTargetSuccess), as in the original; nothing is left to send.
    await waitFor('b acknowledges the published event', () => management.statusOf(Z, B) === 'success')
    assert.equal(await hashOn(B, Z), await hashOn(MGMT, Z))
    assert.deepEqual({ ...(await propagator.sync()), durationMs: 0 }, { propagationsRead: 0, targetsPublished: 0, targetsRetrying: 0, durationMs: 0 })
    // an error of the Redis client object while recording the event: that target retries
    const Q = id('q')
    await propagator.ensure({ clientId: Q, secret: 'plain-Q', targets: [B] })
    redis.mgmt.sAdd = async () => {
      throw new Error('redis says no')
    }
    try {
      const s = await propagator.sync()
      assert.equal(s.targetsRetrying, 1)
      assert.equal(s.targetsPublished, 0)
    } finally {
      delete redis.mgmt.sAdd
    }
    await waitFor('the warning', () =>
      peers[MGMT].lines.some((l) => l.startsWith(`warn [propagation] publish to ${B} for ${Q} failed: `) && l.endsWith('redis says no')),
    )
    assert.equal(management.statusOf(Q, B), 'pending')
    // the next sync sends it
    assert.equal((await propagator.sync()).targetsPublished >= 1, true)
    await waitFor('q on b', async () => (await hashOn(B, Q)) === hashClientSecret('plain-Q', PEPPER[MGMT]))
  })

  test('a wrong target secret: the target drops the event and applies nothing', async () => {
    const W = id('w')
    const { propagator, management } = peers[MGMT]
    management.directory.set(B, 'not-the-secret-of-b')
    try {
      await propagator.ensure({ clientId: W, secret: 'plain-W', targets: [B] })
      assert.equal((await propagator.sync()).targetsPublished >= 1, true)
      await waitFor('b drops the event', () =>
        peers[B].lines.some((l) => l.startsWith(`warn [propagation] propagation-secret-mismatch from ${MGMT}, dropping eventId=`)),
      )
      assert.equal(await hashOn(B, W), null)
      assert.equal(management.statusOf(W, B), 'sent')
      assert.ok(peers[B].lines.every((l) => !l.includes('not-the-secret-of-b')), 'secrets are never logged')
    } finally {
      management.directory.set(B, SECRET[B])
    }
  })

  test('queues: one durable classic queue per peer, no arguments, one consumer each', async () => {
    const queues = await listQueues()
    for (const name of [MGMT, B, C]) {
      const q = queues.get(buildQueueName(name))
      assert.ok(q, `${buildQueueName(name)} declared`)
      assert.equal(q.durable, true)
      assert.equal(q.arguments, '[]')
      assert.equal(q.consumers, 1)
    }
  })
})
