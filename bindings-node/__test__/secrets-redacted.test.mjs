// Secrets stay out of printouts: util.inspect of every exported class/object that holds a
// secret (native key sets and instances, the drop-in instances, a propagator) and the errors
// of store URLs never contain the secret's bytes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const native = require('../index.js')
const hmac = require('../packages/node-hmac-auth-core/lib/index.cjs')
const propagation = require('../packages/node-hmac-auth-core-propagation/lib/index.cjs')

const PEPPER = 'pepper-Token-77aa'
const JWT_SECRET = 'jwt-Hmac-Key-Bytes-6d6d'
const PROPAGATION_SECRET = 'propagation-Secret-0b2e'
const AMQP_PASSWORD = 'amqp-Password-19ff'
const URL_PASSWORD = 'hunter2-url-password'

function clean(obj, ...secrets) {
  for (const text of [inspect(obj), inspect(obj, { depth: 8, showHidden: true, getters: true })]) {
    for (const s of secrets) assert.ok(!text.includes(s), `${s} printed in ${text}`)
  }
}

test('native classes holding keys print none of them', () => {
  const keys = new native.KeySet()
  keys.addHmac(JWT_SECRET)
  clean(keys, JWT_SECRET)
  const tm = new native.TokenManager(keys, { issuer: 'https://issuer.example' })
  clean(tm, JWT_SECRET)
  const inst = new native.HmacAuth(`redis://default:${URL_PASSWORD}@127.0.0.1:6379`, { secretToken: PEPPER })
  clean(inst, PEPPER, URL_PASSWORD)
})

test('drop-in instances redact the pepper and the store password', () => {
  const url = `redis://default:${URL_PASSWORD}@127.0.0.1:6379`
  for (const auth of [
    hmac.initializeHmacHttpAuth({ redis: url, secretToken: PEPPER }),
    hmac.initializeHmacMessageAuth({ redis: 'memory://', secretToken: PEPPER }),
  ]) {
    clean(auth, PEPPER, URL_PASSWORD)
    assert.equal(auth.secretToken, PEPPER)
  }
})

test('store URL errors never echo a password', async () => {
  assert.throws(() => new native.HmacAuth(`mysql://root:${URL_PASSWORD}@db:3306`, {}), (e) => {
    assert.ok(!e.message.includes(URL_PASSWORD), e.message)
    return true
  })
  await assert.rejects(
    propagation.createPropagator({
      amqpHost: 'secrets-mesh', amqpPort: 5672, amqpUser: 'guest', amqpPassword: AMQP_PASSWORD,
      amqpProtocol: 'memory', amqpQueue: 'peer-a', propagationSecret: PROPAGATION_SECRET,
      redis: `mysql://root:${URL_PASSWORD}@db:3306`, hmacHttpAuth: hmac.initializeHmacHttpAuth({ redis: 'memory://' }),
    }),
    (e) => {
      assert.ok(!e.message.includes(URL_PASSWORD), e.message)
      assert.match(e.message, /mysql:\/\/root:\*\*\*@db:3306/)
      return true
    },
  )
})

test('a propagator prints neither its secret nor the AMQP password', async () => {
  const p = await propagation.createPropagator({
    amqpHost: 'secrets-mesh-2', amqpPort: 5672, amqpUser: 'guest', amqpPassword: AMQP_PASSWORD,
    amqpProtocol: 'memory', amqpQueue: 'peer-a', propagationSecret: PROPAGATION_SECRET,
    redis: 'memory://', hmacHttpAuth: hmac.initializeHmacHttpAuth({ redis: 'memory://', secretToken: PEPPER }),
  })
  try {
    clean(p, AMQP_PASSWORD, PROPAGATION_SECRET, PEPPER)
  } finally {
    await p.close()
  }
})
