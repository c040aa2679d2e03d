// Randomised calls of @naskot/node-hmac-auth-core-propagation's synchronous surface:
// buildQueueName, HmacPropagationError, DEFAULT_AMQP_VHOST, and createPropagator's option
// checks (each option present, falsy in one of JS's ways, or odd; the queue name valid or
// not). Options that pass every check use the in-process broker (`amqpProtocol: "memory"`),
// so no case connects anywhere.
import { enc, rng } from '../fuz-app-realtime/codec.mjs'
import { flowCase } from './flow.mjs'

const QUEUES = ['orders', 'billing-2', 'A-Z-09', '', 'has space', 'dots.bad', 'under_score', 'é', 'x\uD800', '-', 'a'.repeat(200), 'new\nline', 'hmac-x.queue']
const FALSY = [undefined, null, '', 0, false, NaN]

export function generate(seed, { only } = {}) {
  const r = rng(seed)
  const cases = []
  const push = (capability, op, input) => {
    if (only && !only.includes(capability)) return
    cases.push({ id: `s${seed}-${cases.length}`, capability, op, input: enc(input) })
  }
  for (let i = 0; i < 30; i++) push('wire', 'buildQueueName', { amqpQueue: r.chance(0.8) ? r.pick(QUEUES) : r.str('abcXYZ09-_. é', 0, 12) })
  push('wire', 'DEFAULT_AMQP_VHOST', {})
  for (let i = 0; i < 20; i++) {
    const input = { code: r.pick(['MANAGEMENT_NOT_CONFIGURED', 'UNKNOWN_CLIENT', 'INVALID_OPTIONS', 'INTERNAL_ERROR']) }
    if (r.chance(0.6)) input.message = r.pick(['', 'boom', 'é 😀', undefined])
    if (r.chance(0.3)) input.cause = r.pick(['because', 42, null, { why: 'x' }])
    push('errors', 'HmacPropagationError', input)
  }
  const fields = ['amqpHost', 'amqpPort', 'amqpUser', 'amqpPassword', 'amqpProtocol', 'amqpQueue', 'propagationSecret', 'redis']
  for (let i = 0; i < 80; i++) {
    const o = {
      amqpHost: '127.0.0.1',
      amqpPort: 5672,
      amqpUser: 'guest',
      amqpPassword: 'guest',
      amqpProtocol: 'memory',
      amqpQueue: `diffq-${seed}-${i}`,
      propagationSecret: 'prop-secret',
      redis: true,
      hmacHttpAuth: true,
    }
    for (let k = r.int(0, 2); k > 0; k--) o[r.pick(fields)] = r.pick(FALSY)
    if (r.chance(0.25)) o.amqpQueue = r.pick(QUEUES.filter(Boolean))
    if (r.chance(0.2)) {
      o.hmacHttpAuth = r.pick([undefined, null, false])
      if (r.chance(0.5)) o.hmacMessageAuth = true
    }
    push('options', 'createPropagator', o)
  }
  // Flows on an in-process mesh (flow.mjs): ensure/rotate/revoke/sync, the wire, ACKs, the
  // receive pipeline.
  for (let i = 0; i < 20; i++) push('flow', 'flow.scenario', flowCase(r, `s${seed}f${i}`))
  return cases
}
