// ESM entry: re-exports the CommonJS build so both entries share one module instance
// (one HmacPropagationError class: `instanceof` works whichever entry a caller used).
import cjs from './index.cjs'

export const { createPropagator, HmacPropagationError, buildQueueName, DEFAULT_AMQP_VHOST } = cjs
