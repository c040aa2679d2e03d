// One call of the signing track on an implementation: `{ok: value}` or `{error: {class,
// message, code}}`. A case whose input holds `"sign": true` as its signature is verified with
// a signature made by the same implementation first (a valid one).
import { dec, errorOf } from '../fuz-app-realtime/codec.mjs'

export const OP_NAMES = ['buildSigningPayload', 'signRequest', 'hashClientSecret', 'hashBody', 'safeEqualHex', 'buildMessageSigningPayload', 'signMessage', 'verifyMessage']

export async function execute(implOrPromise, kase) {
  const impl = await implOrPromise
  const input = dec(kase.input)
  try {
    let value
    switch (kase.op) {
      case 'hashClientSecret':
        value = impl.hashClientSecret(input.secret, input.secretToken)
        break
      case 'hashBody':
        value = impl.hashBody(input.body)
        break
      case 'safeEqualHex':
        value = impl.safeEqualHex(input.a, input.b)
        break
      case 'verifyMessage': {
        const v = { ...input }
        if (v.signature === 'sign') v.signature = impl.signMessage(v).signature
        value = impl.verifyMessage(v)
        break
      }
      default:
        value = impl[kase.op](input)
    }
    return { ok: value }
  } catch (e) {
    return { error: errorOf(e) }
  }
}
