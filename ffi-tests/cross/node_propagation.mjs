// A full-mode propagation peer in Node (@authcore/node-hmac-auth-core-propagation) on the
// real RabbitMQ, its credentials in Redis under <namespace>. Driven over stdin, one JSON
// command per line; every event is printed as one JSON line on stdout.
// usage: node node_propagation.mjs <redisUrl> <namespace> <name> <secret> <pepper> <directoryJson>
//   {"ensure": {clientId, secret, targets}}  -> ensure + sync, prints {"synced": summary}
//   stdin end                                 -> close, exit
// prints {"ready": true}, then {"success": target} / {"fully": [clientId, status]} as ACKs arrive.
import readline from 'node:readline'
import { createClient } from 'redis'
import { initializeHmacHttpAuth } from '@authcore/node-hmac-auth-core'
import { createPropagator } from '@authcore/node-hmac-auth-core-propagation'
import { MemoryManagement } from '../../bindings-node/packages/node-hmac-auth-core-propagation/test/helpers.mjs'

const [redisUrl, namespace, name, secret, pepper, directoryJson] = process.argv.slice(2)
const out = (v) => process.stdout.write(`${JSON.stringify(v)}\n`)

class Reporting extends MemoryManagement {
  async markTargetSuccess(i) {
    await super.markTargetSuccess(i)
    out({ success: i.targetAmqpQueue })
  }
  async markCredentialFullyPropagated(i) {
    await super.markCredentialFullyPropagated(i)
    out({ fully: [i.clientId, i.finalStatus] })
  }
}

const redis = createClient({ url: redisUrl })
await redis.connect()
const hmacHttpAuth = initializeHmacHttpAuth({ redis, namespace, secretToken: pepper })
const propagator = await createPropagator({
  amqpHost: '127.0.0.1', amqpPort: 5672, amqpUser: 'guest', amqpPassword: 'guest', amqpProtocol: 'amqp',
  amqpQueue: name, propagationSecret: secret,
  redis, // the node-redis client object, as with the original
  hmacHttpAuth,
  management: new Reporting(JSON.parse(directoryJson)),
})
out({ ready: true })
for await (const line of readline.createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line)
  if (cmd.ensure) {
    await propagator.ensure(cmd.ensure)
    out({ synced: await propagator.sync() })
  }
}
await propagator.close()
await redis.quit()
