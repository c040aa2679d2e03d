// ensure/rotate hand their host steps (clients.get, the management callback, the local
// clients.setSecretHash) to JavaScript in one call: the calls, their order, their inputs and
// the errors seen by the caller stay the original's. In-process mesh and state (no services).
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { hashClientSecret } from '@authcore/node-hmac-auth-core'
import { createPropagator } from '@authcore/node-hmac-auth-core-propagation'

import { MemoryManagement, runSuffix, waitFor } from './helpers.mjs'

/** An hmacHttpAuth with the original's shape (clients.get/setSecretHash/delete, secretToken) that records every call into `trace`. */
function tracedAuth(trace, pepper) {
  const store = new Map()
  const auth = {
    secretToken: pepper,
    fail: null,
    clients: {
      get: async (clientId) => {
        trace.push(['get', clientId])
        if (auth.fail?.name === 'get') throw auth.fail.error
        return store.has(clientId) ? { clientId, secretHash: store.get(clientId) } : null
      },
      setSecretHash: async (...args) => {
        trace.push(['setSecretHash', ...args])
        if (auth.fail?.name === 'setSecretHash') throw auth.fail.error
        store.set(args[0], args[1])
      },
      delete: async (clientId) => {
        trace.push(['delete', clientId])
        store.delete(clientId)
      },
    },
  }
  return auth
}

/** The management adapter of the helpers, its calls also written into `trace`. */
function tracedManagement(trace, directory) {
  const m = new MemoryManagement(directory)
  const enter = m.enter.bind(m)
  m.enter = (name, input) => {
    trace.push([name, input])
    enter(name, input)
  }
  return m
}

async function mesh() {
  const sfx = runSuffix()
  const trace = []
  const A = `a-${sfx}`
  const B = `b-${sfx}`
  const common = { amqpProtocol: 'memory', amqpHost: `mesh-${sfx}`, amqpPort: 5672, amqpUser: 'guest', amqpPassword: 'guest' }
  const auth = tracedAuth(trace, 'pepper-a')
  const management = tracedManagement(trace, { [B]: 'secret-b' })
  const a = await createPropagator({ ...common, amqpQueue: A, propagationSecret: 'secret-a', redis: `memory://${A}`, hmacHttpAuth: auth, management })
  return { sfx, trace, auth, management, a, B, close: () => a.close() }
}

test('ensure: clients.get, upsertCredentialWithTargets, clients.setSecretHash, in that order, with the original inputs', async () => {
  const m = await mesh()
  try {
    const r = await m.a.ensure({ clientId: 'c1', secret: 'plain-1', targets: [m.B], allowedIps: ['10.0.0.0/8'], expiresAt: 4102444800000 })
    assert.deepEqual(r, { clientId: 'c1', op: 'credential.create' })
    const hash = hashClientSecret('plain-1', 'pepper-a')
    assert.deepEqual(m.trace, [
      ['get', 'c1'],
      ['upsertCredentialWithTargets', { clientId: 'c1', track: 'http', op: 'credential.create', secretPlain: 'plain-1', allowedIps: ['10.0.0.0/8'], expiresAt: 4102444800000, targets: [m.B] }],
      ['setSecretHash', 'c1', hash, 4102444800000, ['10.0.0.0/8']],
    ])
    // no allowedIps / expiresAt: undefined to setSecretHash, null expiresAt to the upsert
    m.trace.length = 0
    assert.deepEqual(await m.a.ensure({ clientId: 'c1', secret: 'plain-2', targets: [m.B] }), { clientId: 'c1', op: 'credential.update' })
    assert.deepEqual(m.trace, [
      ['get', 'c1'],
      ['upsertCredentialWithTargets', { clientId: 'c1', track: 'http', op: 'credential.update', secretPlain: 'plain-2', allowedIps: undefined, expiresAt: null, targets: [m.B] }],
      ['setSecretHash', 'c1', hashClientSecret('plain-2', 'pepper-a'), undefined, undefined],
    ])
  } finally {
    await m.close()
  }
})

test('ensure of a client with an outstanding event: clients.get still comes before anything is written', async () => {
  const m = await mesh()
  try {
    await m.a.ensure({ clientId: 'c2', secret: 'plain-1', targets: [m.B] })
    // published to b, which is not running: the event stays outstanding
    assert.equal((await m.a.sync()).targetsPublished, 1)
    m.trace.length = 0
    assert.deepEqual(await m.a.ensure({ clientId: 'c2', secret: 'plain-2', targets: [m.B] }), { clientId: 'c2', op: 'credential.update' })
    assert.deepEqual(
      m.trace.map(([name]) => name),
      ['get', 'upsertCredentialWithTargets', 'setSecretHash'],
    )
    // the retired event is no longer outstanding: the next sync sends the new one
    assert.equal((await m.a.sync()).targetsPublished, 1)
  } finally {
    await m.close()
  }
})

test('a step that throws ends the sequence, and the caller gets the thrown value itself', async () => {
  const m = await mesh()
  try {
    const boom = new TypeError('db down')
    m.management.fail = { name: 'upsertCredentialWithTargets', error: boom }
    await assert.rejects(m.a.ensure({ clientId: 'c3', secret: 's', targets: [m.B] }), (e) => e === boom)
    assert.deepEqual(m.trace.map(([name]) => name), ['get', 'upsertCredentialWithTargets'])
    m.management.fail = null

    m.trace.length = 0
    const getFailed = { not: 'an Error' }
    m.auth.fail = { name: 'get', error: getFailed }
    await assert.rejects(m.a.ensure({ clientId: 'c3', secret: 's', targets: [m.B] }), (e) => e === getFailed)
    assert.deepEqual(m.trace.map(([name]) => name), ['get'])

    m.trace.length = 0
    const setFailed = new RangeError('store full')
    m.auth.fail = { name: 'setSecretHash', error: setFailed }
    await assert.rejects(m.a.ensure({ clientId: 'c3', secret: 's', targets: [m.B] }), (e) => e === setFailed)
    assert.deepEqual(m.trace.map(([name]) => name), ['get', 'upsertCredentialWithTargets', 'setSecretHash'])
    m.auth.fail = null
  } finally {
    await m.close()
  }
})

test('ensure calls of one client run one after another (the client lock spans the host steps); other clients are not held up', async () => {
  const m = await mesh()
  try {
    const calls = [
      m.a.ensure({ clientId: 'c5', secret: 'plain-1', targets: [m.B] }),
      m.a.ensure({ clientId: 'c5', secret: 'plain-2', targets: [m.B] }),
      m.a.ensure({ clientId: 'c6', secret: 'plain-3', targets: [m.B] }),
    ]
    const results = await Promise.all(calls)
    // the second ensure of c5 asked clients.get after the first one's setSecretHash
    assert.deepEqual(results.map((r) => r.op), ['credential.create', 'credential.update', 'credential.create'])
    const of = (id) => m.trace.filter(([, x]) => x === id || x?.clientId === id).map(([name]) => name)
    const steps = ['get', 'upsertCredentialWithTargets', 'setSecretHash']
    assert.deepEqual(of('c5'), [...steps, ...steps])
    assert.deepEqual(of('c6'), steps)
    // c6 did not wait for c5's second ensure: its steps started before that one's clients.get
    const firstOf = (id, name, nth = 0) => m.trace.map(([n, x], i) => (n === name && (x === id || x?.clientId === id) ? i : -1)).filter((i) => i >= 0)[nth]
    assert.ok(firstOf('c6', 'get') < firstOf('c5', 'get', 1))
    // the last ensure of c5 won locally
    m.trace.length = 0
    await m.a.ensure({ clientId: 'c5', secret: 'plain-4', targets: [m.B] })
    assert.deepEqual(m.trace.at(-1), ['setSecretHash', 'c5', hashClientSecret('plain-4', 'pepper-a'), undefined, undefined])
  } finally {
    await m.close()
  }
})

test('rotate: clients.get, rotateCredentialSecret, clients.setSecretHash; errors reach the caller unchanged', async () => {
  const m = await mesh()
  try {
    await m.a.ensure({ clientId: 'c4', secret: 'plain-1', targets: [m.B] })
    m.trace.length = 0
    assert.deepEqual(await m.a.rotate({ clientId: 'c4', secret: 'plain-2' }), { clientId: 'c4' })
    assert.deepEqual(m.trace, [
      ['get', 'c4'],
      ['rotateCredentialSecret', { clientId: 'c4', track: 'http', secretPlain: 'plain-2' }],
      ['setSecretHash', 'c4', hashClientSecret('plain-2', 'pepper-a'), undefined, undefined],
    ])

    m.trace.length = 0
    const rot = new Error('rotate failed')
    m.management.fail = { name: 'rotateCredentialSecret', error: rot }
    await assert.rejects(m.a.rotate({ clientId: 'c4', secret: 'plain-3' }), (e) => e === rot)
    assert.deepEqual(m.trace.map(([name]) => name), ['get', 'rotateCredentialSecret'])
    m.management.fail = null

    m.trace.length = 0
    const setFailed = new Error('store down')
    m.auth.fail = { name: 'setSecretHash', error: setFailed }
    await assert.rejects(m.a.rotate({ clientId: 'c4', secret: 'plain-4' }), (e) => e === setFailed)
    assert.deepEqual(m.trace.map(([name]) => name), ['get', 'rotateCredentialSecret', 'setSecretHash'])
    m.auth.fail = null
  } finally {
    await m.close()
  }
})

test('an ACK: markTargetSuccess, then markCredentialFullyPropagated once every target answered', async () => {
  const m = await mesh()
  const trace = []
  const authB = tracedAuth(trace, 'pepper-b')
  const b = await createPropagator({
    amqpProtocol: 'memory', amqpHost: `mesh-${m.sfx}`, amqpPort: 5672, amqpUser: 'guest', amqpPassword: 'guest',
    amqpQueue: m.B, propagationSecret: 'secret-b', redis: `memory://${m.B}`, hmacHttpAuth: authB,
    management: new MemoryManagement({ [`a-${m.sfx}`]: 'secret-a' }),
  })
  try {
    await m.a.ensure({ clientId: 'c5', secret: 'plain-5', targets: [m.B] })
    assert.equal((await m.a.sync()).targetsPublished, 1)
    const hash = hashClientSecret('plain-5', 'pepper-a')
    await waitFor('the hash on b', () => trace.some(([name, id, h]) => name === 'setSecretHash' && id === 'c5' && h === hash))
    await waitFor('the ACK handled', () => m.management.callsOf('markCredentialFullyPropagated').length === 1)
    const names = m.trace.map(([name]) => name).filter((n) => n.startsWith('mark'))
    assert.deepEqual(names, ['markTargetSent', 'markTargetSuccess', 'markCredentialFullyPropagated'])
    const [success] = m.management.callsOf('markTargetSuccess')
    assert.deepEqual(Object.keys(success), ['clientId', 'targetAmqpQueue', 'appliedAt'])
    assert.equal(success.targetAmqpQueue, m.B)
    const [fully] = m.management.callsOf('markCredentialFullyPropagated')
    assert.deepEqual(fully, { clientId: 'c5', finalStatus: 'success', at: success.appliedAt })

    // A failing markTargetSuccess: no markCredentialFullyPropagated; the ACK is still recorded
    // (the credential completes on no later ACK), as before.
    m.trace.length = 0
    m.management.fail = { name: 'markTargetSuccess', error: new Error('db down') }
    await m.a.ensure({ clientId: 'c6', secret: 'plain-6', targets: [m.B] })
    assert.equal((await m.a.sync()).targetsPublished, 1)
    await waitFor('the failed ACK callback', () => m.trace.some(([name]) => name === 'markTargetSuccess'))
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(m.management.callsOf('markCredentialFullyPropagated').length, 1)
    m.management.fail = null
  } finally {
    await b.close()
    await m.close()
  }
})
