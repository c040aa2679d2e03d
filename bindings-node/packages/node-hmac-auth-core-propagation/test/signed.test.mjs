// Signed events (authcore extension, off by default) over the real RabbitMQ (vhost
// hmac-credentials): `signEvents` / `requireSignedEvents` / `omitSecretFromSignedEvents`.
// A strict peer applies signed events and drops unsigned ones; a v1 peer applies signed
// events; with the body secret withheld, only strict peers accept.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { initializeHmacHttpAuth } from '@authcore/node-hmac-auth-core'
import { buildQueueName, createPropagator } from '@authcore/node-hmac-auth-core-propagation'

import { AMQP, MemoryManagement, captureLogger, deleteQueues, runSuffix, waitFor } from './helpers.mjs'

const sfx = runSuffix()
const NAMES = Object.fromEntries(['auth', 'strict', 'v1', 'legacy', 'closed', 'closedpeer'].map((k) => [k, `signed-${k}-${sfx}`]))
const SECRET = Object.fromEntries(Object.entries(NAMES).map(([k, n]) => [k, `secret-of-${n}`]))
const DIRECTORY = Object.fromEntries(Object.keys(NAMES).map((k) => [NAMES[k], SECRET[k]]))
const OPTIONS = {
  auth: { signEvents: true, requireSignedEvents: true },
  strict: { signEvents: true, requireSignedEvents: true },
  v1: {},
  legacy: {},
  closed: { requireSignedEvents: true, omitSecretFromSignedEvents: true },
  closedpeer: { requireSignedEvents: true, omitSecretFromSignedEvents: true },
}
const peers = {}

before(async () => {
  for (const k of Object.keys(NAMES)) {
    const { lines, logger } = captureLogger()
    const auth = initializeHmacHttpAuth({ redis: `memory://${NAMES[k]}`, namespace: `hmac:http:${NAMES[k]}`, secretToken: `pepper-${k}` })
    const management = new MemoryManagement(DIRECTORY)
    const propagator = await createPropagator({
      ...AMQP,
      amqpQueue: NAMES[k],
      propagationSecret: SECRET[k],
      redis: 'memory://',
      hmacHttpAuth: auth,
      management,
      logger,
      ...OPTIONS[k],
    })
    peers[k] = { propagator, lines, auth, management }
  }
})

after(async () => {
  await Promise.allSettled(Object.values(peers).map((p) => p.propagator.close()))
  await deleteQueues(Object.values(NAMES).map(buildQueueName))
})

const hashOn = async (k, clientId) => (await peers[k].auth.clients.get(clientId))?.secretHash ?? null
const logged = (k, needle) => peers[k].lines.some((l) => l.includes(needle))

async function send(from, clientId, to) {
  const { propagator } = peers[from]
  await propagator.ensure({ clientId, secret: `plain-${clientId}`, targets: to.map((k) => NAMES[k]) })
  assert.equal((await propagator.sync()).targetsPublished, to.length)
  return hashOn(from, clientId)
}

test('signed events: a strict peer and a v1 peer apply them; the strict authority drops the unsigned v1 ACK', async () => {
  const id = `c-signed-${sfx}`
  const want = await send('auth', id, ['strict', 'v1'])
  await waitFor('applied on the strict peer', async () => (await hashOn('strict', id)) === want)
  await waitFor('applied on the v1 peer', async () => (await hashOn('v1', id)) === want)
  await waitFor('the signed ACK', () => peers.auth.management.statusOf(id, NAMES.strict) === 'success')
  await waitFor('the unsigned ACK dropped', () => logged('auth', `unsigned event from ${NAMES.v1}, dropping`))
  assert.equal(peers.auth.management.statusOf(id, NAMES.v1), 'sent')
})

test('unsigned events: a strict peer drops them and applies nothing', async () => {
  const id = `c-unsigned-${sfx}`
  await send('legacy', id, ['strict'])
  await waitFor('the unsigned event dropped', () => logged('strict', `unsigned event from ${NAMES.legacy}, dropping`))
  assert.equal(await hashOn('strict', id), null)
  assert.equal(peers.legacy.management.statusOf(id, NAMES.strict), 'sent')
})

test('withheld body secret: strict peers complete, a v1 peer drops the event at its secret check', async () => {
  const id = `c-withheld-${sfx}`
  const want = await send('closed', id, ['closedpeer', 'v1'])
  await waitFor('the strict ACK', () => peers.closed.management.statusOf(id, NAMES.closedpeer) === 'success')
  assert.equal(await hashOn('closedpeer', id), want)
  await waitFor('the v1 peer drops it', () => logged('v1', `propagation-secret-mismatch from ${NAMES.closed}`))
  assert.equal(await hashOn('v1', id), null)
})
