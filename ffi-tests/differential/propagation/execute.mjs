// One call on an implementation: `{ok: value}` or `{error: {class, name, message, code}}`.
// createPropagator options: `redis: true` is `memory://` (the original only checks it is
// truthy), `hmacHttpAuth`/`hmacMessageAuth: true` an auth instance made by the
// implementation's `authInstance()`; a propagator that is created is closed at once.
import { dec, errorOf } from '../fuz-app-realtime/codec.mjs'
import { flowScenario } from './flow.mjs'

export const OP_NAMES = ['buildQueueName', 'DEFAULT_AMQP_VHOST', 'HmacPropagationError', 'createPropagator', 'flow.scenario']

// How many messages each step of a flow left on the spies on the reference side (the
// recorded answer, or the original's run just before ours): when a step is over.
const wireCounts = new Map()
function hintsOf(kase) {
  const ref = kase.kept?.ours ?? kase.expect ?? wireCounts.get(kase.id)
  return ref?.ok?.trace?.map((t) => t.published)
}

function withName(outcome, e) {
  if (outcome.error && e instanceof Error) outcome.error.name = e.name
  return outcome
}

export async function execute(implOrPromise, kase) {
  const impl = await implOrPromise
  const input = dec(kase.input)
  try {
    switch (kase.op) {
      case 'buildQueueName':
        return { ok: impl.buildQueueName(input.amqpQueue) }
      case 'DEFAULT_AMQP_VHOST':
        return { ok: impl.DEFAULT_AMQP_VHOST }
      case 'HmacPropagationError': {
        const args = [input.code]
        if ('message' in input || 'cause' in input) args.push(input.message)
        if ('cause' in input) args.push(input.cause)
        const e = new impl.HmacPropagationError(...args)
        return {
          ok: {
            instanceofError: e instanceof Error,
            name: e.name,
            message: e.message,
            code: e.code,
            cause: e.cause === undefined ? '<undefined>' : e.cause,
            keys: Object.keys(e).sort(),
            string: String(e),
          },
        }
      }
      case 'createPropagator': {
        const o = { ...input }
        if (o.redis === true) o.redis = 'memory://'
        if (o.hmacHttpAuth === true) o.hmacHttpAuth = impl.authInstance()
        if (o.hmacMessageAuth === true) o.hmacMessageAuth = impl.authInstance()
        const p = await impl.createPropagator(o)
        await p?.close?.()
        return { ok: 'created' }
      }
      case 'flow.scenario': {
        const out = { ok: await flowScenario(impl.side, input, hintsOf(kase)) }
        if (impl.side.tag === 'original') wireCounts.set(kase.id, out)
        return out
      }
      default:
        throw new Error(`unknown op ${kase.op}`)
    }
  } catch (e) {
    return withName({ error: errorOf(e) }, e)
  }
}
