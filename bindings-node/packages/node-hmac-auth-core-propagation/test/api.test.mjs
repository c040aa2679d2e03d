// The public surface without a mesh: exports, buildQueueName (spec §6.1),
// HmacPropagationError (§6.4), createPropagator's option checks in the original's order
// (§2.2), and a broker that is down at boot (§7).
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import * as esm from '@authcore/node-hmac-auth-core-propagation'
import { buildQueueName, createPropagator, DEFAULT_AMQP_VHOST, HmacPropagationError } from '@authcore/node-hmac-auth-core-propagation'
import { initializeHmacHttpAuth } from '@authcore/node-hmac-auth-core'

import { AMQP, MemoryManagement, captureLogger, runSuffix, waitFor } from './helpers.mjs'

const require = createRequire(import.meta.url)

test('exports exactly the four values of the original, from ESM and CommonJS (one class)', () => {
  assert.deepEqual(Object.keys(esm).sort(), ['DEFAULT_AMQP_VHOST', 'HmacPropagationError', 'buildQueueName', 'createPropagator'])
  const cjs = require('@authcore/node-hmac-auth-core-propagation')
  assert.deepEqual(Object.keys(cjs).sort(), Object.keys(esm).sort())
  assert.equal(cjs.HmacPropagationError, HmacPropagationError)
  assert.equal(cjs.createPropagator, createPropagator)
  assert.equal(typeof createPropagator, 'function')
})

test('DEFAULT_AMQP_VHOST is "hmac-credentials"', () => {
  assert.equal(DEFAULT_AMQP_VHOST, 'hmac-credentials')
})

test('buildQueueName: hmac-<name>.queue for [A-Za-z0-9-]+', () => {
  assert.equal(buildQueueName('x-authority-hmac'), 'hmac-x-authority-hmac.queue')
  assert.equal(buildQueueName('ABC123'), 'hmac-ABC123.queue')
  assert.equal(buildQueueName('-'), 'hmac--.queue')
})

test('buildQueueName throws the plain Error of the original', () => {
  for (const bad of ['bad name', 'bad/name', '', 'caf\u00e9', 'a.b', 'a_b']) {
    assert.throws(
      () => buildQueueName(bad),
      (e) => {
        assert.equal(Object.getPrototypeOf(e), Error.prototype)
        assert.equal(e.message, `Invalid amqpQueue "${bad}": must match [A-Za-z0-9-]+`)
        assert.equal(e.code, undefined)
        return true
      },
    )
  }
})

test('HmacPropagationError: code, message defaults to the code, name, instanceof Error', () => {
  const e = new HmacPropagationError('MANAGEMENT_NOT_CONFIGURED')
  assert.equal(e.code, 'MANAGEMENT_NOT_CONFIGURED')
  assert.equal(e.message, 'MANAGEMENT_NOT_CONFIGURED')
  assert.equal(e.name, 'HmacPropagationError')
  assert.ok(e instanceof Error)
  assert.ok(e instanceof HmacPropagationError)
  assert.equal(e.cause, undefined)
})

test('HmacPropagationError keeps the message and the cause (identity)', () => {
  const cause = { any: 'thing' }
  const e = new HmacPropagationError('INTERNAL_ERROR', 'broker disconnected', cause)
  assert.equal(e.message, 'broker disconnected')
  assert.equal(e.code, 'INTERNAL_ERROR')
  assert.equal(e.cause, cause)
  assert.match(String(e), /^HmacPropagationError: broker disconnected$/)
})

const auth = initializeHmacHttpAuth({ redis: 'memory://propagation-api', secretToken: 'pepper' })
const fakeRedis = { hGet() {}, hSet() {}, hGetAll() {}, hDel() {}, sAdd() {}, sRem() {}, sCard() {}, expire() {}, del() {} }
const valid = () => ({ ...AMQP, amqpQueue: 'api-peer', propagationSecret: 's', redis: fakeRedis, hmacHttpAuth: auth })

async function rejectsInvalidOptions(options, message) {
  await assert.rejects(createPropagator(options), (e) => {
    assert.ok(e instanceof HmacPropagationError, `${message}: ${e}`)
    assert.equal(e.code, 'INVALID_OPTIONS')
    assert.equal(e.message, message)
    return true
  })
}

test('createPropagator checks the options in the original order, as INVALID_OPTIONS rejections', async () => {
  const order = [
    ['amqpHost', 'amqpHost is required'],
    ['amqpPort', 'amqpPort is required'],
    ['amqpUser', 'amqpUser is required'],
    ['amqpPassword', 'amqpPassword is required'],
    ['amqpProtocol', 'amqpProtocol is required'],
    ['amqpQueue', 'amqpQueue is required'],
    ['propagationSecret', 'propagationSecret is required'],
    ['redis', 'redis is required'],
  ]
  // Everything missing: the first check wins; then remove one option at a time.
  await rejectsInvalidOptions({}, 'amqpHost is required')
  const options = {}
  for (const [i, [key, message]] of order.entries()) {
    await rejectsInvalidOptions({ ...options }, message)
    options[key] = valid()[key]
    if (i + 1 < order.length) await rejectsInvalidOptions({ ...options }, order[i + 1][1])
  }
  await rejectsInvalidOptions({ ...options }, 'At least one of hmacHttpAuth or hmacMessageAuth must be provided')
})

test('createPropagator applies JavaScript truthiness (empty strings, port 0)', async () => {
  await rejectsInvalidOptions({ ...valid(), amqpHost: '' }, 'amqpHost is required')
  await rejectsInvalidOptions({ ...valid(), amqpPort: 0 }, 'amqpPort is required')
  await rejectsInvalidOptions({ ...valid(), propagationSecret: '' }, 'propagationSecret is required')
  await rejectsInvalidOptions({ ...valid(), redis: null }, 'redis is required')
  await rejectsInvalidOptions({ ...valid(), hmacHttpAuth: undefined, hmacMessageAuth: null }, 'At least one of hmacHttpAuth or hmacMessageAuth must be provided')
})

test('createPropagator: NaN and -0 ports are missing (the core\'s JavaScript truthiness)', async () => {
  await rejectsInvalidOptions({ ...valid(), amqpPort: NaN, amqpUser: undefined }, 'amqpPort is required')
  await rejectsInvalidOptions({ ...valid(), amqpPort: -0 }, 'amqpPort is required')
})

test('createPropagator: nothing goes through a node-redis client object before every check passed', async () => {
  const calls = []
  const client = Object.fromEntries(
    ['hGet', 'hSet', 'hGetAll', 'hDel', 'sAdd', 'sRem', 'sCard', 'expire', 'del'].map((n) => [n, async () => { calls.push(n) }]),
  )
  // node-redis options: the client would be probed for a native connection.
  client.options = { url: 'redis://127.0.0.1:6379/3' }
  await assert.rejects(createPropagator({ ...valid(), redis: client, amqpQueue: 'bad name' }), /Invalid amqpQueue/)
  await rejectsInvalidOptions({ ...valid(), redis: client, amqpPort: 70000 }, 'amqpPort must be an integer from 1 to 65535, got 70000')
  await rejectsInvalidOptions({ ...valid(), redis: client, amqpProtocol: 'http' }, 'amqpProtocol must be "amqp" or "amqps", got "http"')
  assert.deepEqual(calls, [])
})

test('createPropagator rejects (does not throw) and the validation runs before any I/O', () => {
  const p = createPropagator({})
  assert.ok(p instanceof Promise)
  return assert.rejects(p, HmacPropagationError)
})

test('an invalid amqpQueue rejects with the plain Error of buildQueueName', async () => {
  for (const amqpQueue of ['bad name', 'a.b']) {
    await assert.rejects(createPropagator({ ...valid(), amqpQueue }), (e) => {
      assert.equal(Object.getPrototypeOf(e), Error.prototype)
      assert.equal(e.message, `Invalid amqpQueue "${amqpQueue}": must match [A-Za-z0-9-]+`)
      return true
    })
  }
})

test('extension: a bad protocol, port or redis URL is INVALID_OPTIONS up front', async () => {
  await rejectsInvalidOptions({ ...valid(), amqpProtocol: 'http' }, 'amqpProtocol must be "amqp" or "amqps", got "http"')
  await rejectsInvalidOptions({ ...valid(), amqpPort: 70000 }, 'amqpPort must be an integer from 1 to 65535, got 70000')
  await rejectsInvalidOptions({ ...valid(), amqpPort: 56.5 }, 'amqpPort must be an integer from 1 to 65535, got 56.5')
  await rejectsInvalidOptions(
    { ...valid(), redis: 'mysql://x' },
    "Unsupported redis URL 'mysql://x': expected a client object, redis://, rediss://, redis+cluster:// or memory://",
  )
})

test('a broker that is down at boot: createPropagator resolves, ensure works locally, sync counts retrying', async () => {
  const sfx = runSuffix()
  const local = initializeHmacHttpAuth({ redis: `memory://down-${sfx}`, secretToken: 'pepper-down' })
  const management = new MemoryManagement({ elsewhere: 'secret-elsewhere' })
  const { lines, logger } = captureLogger()
  const p = await createPropagator({
    ...valid(),
    amqpPort: 1, // nothing listens there
    amqpQueue: `down-${sfx}`,
    redis: 'memory://',
    hmacHttpAuth: local,
    management,
    logger,
  })
  try {
    assert.deepEqual(Object.keys(p).sort(), ['close', 'ensure', 'revoke', 'rotate', 'sync'])
    assert.deepEqual(await p.ensure({ clientId: `c-${sfx}`, secret: 'plain', targets: ['elsewhere'] }), {
      clientId: `c-${sfx}`,
      op: 'credential.create',
    })
    assert.ok(await local.clients.getSecretHash(`c-${sfx}`))
    const s = await p.sync()
    assert.deepEqual(Object.keys(s), ['propagationsRead', 'targetsPublished', 'targetsRetrying', 'durationMs'])
    assert.equal(s.propagationsRead, 1)
    assert.equal(s.targetsPublished, 0)
    assert.equal(s.targetsRetrying, 1)
    assert.equal(management.callsOf('markTargetSent').length, 0)
    assert.equal(management.statusOf(`c-${sfx}`, 'elsewhere'), 'pending')
    // log lines reach the JS logger asynchronously (fire-and-forget from the addon)
    await waitFor('the publish warning', () => lines.some((l) => l.startsWith('warn [propagation] publish to elsewhere for ')))
    assert.ok(lines.every((l) => !l.includes('guest:guest')), 'the password is never logged')
  } finally {
    await p.close()
  }
  // close() is idempotent and the methods stay callable (publishes then fail: retrying).
  await p.close()
  assert.equal((await p.sync()).targetsRetrying, 1)
})

test('extension: amqpProtocol "memory" links peers of this process through the in-process mesh named amqpHost', async () => {
  const sfx = runSuffix()
  const mesh = { ...valid(), amqpProtocol: 'memory', amqpHost: `mesh-${sfx}`, redis: 'memory://' }
  const management = new MemoryManagement({ [`b-${sfx}`]: 'secret-b' })
  const authA = initializeHmacHttpAuth({ redis: `memory://a-${sfx}`, secretToken: 'pepper-a' })
  const authB = initializeHmacHttpAuth({ redis: `memory://b-${sfx}`, secretToken: 'pepper-b' })
  const a = await createPropagator({ ...mesh, amqpQueue: `a-${sfx}`, propagationSecret: 'secret-a', hmacHttpAuth: authA, management })
  const b = await createPropagator({ ...mesh, amqpQueue: `b-${sfx}`, propagationSecret: 'secret-b', hmacHttpAuth: authB })
  try {
    await a.ensure({ clientId: 'partner', secret: 'plain', targets: [`b-${sfx}`] })
    assert.equal((await a.sync()).targetsPublished, 1)
    await waitFor('the hash on b', async () => (await authB.clients.getSecretHash('partner')) !== null)
    assert.equal(await authB.clients.getSecretHash('partner'), await authA.clients.getSecretHash('partner'))
  } finally {
    await a.close()
    await b.close()
  }
})
