// Deliberate differences (docs/compat.md, "@naskot/node-hmac-auth-core-propagation 1.0.0").
export function kept(kase, ours, theirs) {
  if (kase.op === 'createPropagator' && theirs.ok === 'created' && ours.error?.code === 'INVALID_OPTIONS') {
    const p = kase.input.amqpPort
    if (/amqpPort|amqpProtocol/.test(ours.error.message)) return 'docs/compat.md: Invalid `amqpProtocol` / `amqpPort`'
    if (typeof p !== 'number') return 'docs/compat.md: Invalid `amqpProtocol` / `amqpPort`'
  }
  return null
}
