// ESM entry: re-exports the CommonJS build so both entries share one module instance
// (one HmacAuthError class: `instanceof` works whichever entry a caller used).
import cjs from './index.cjs'

export const {
  buildSigningPayload,
  hashBody,
  hashClientSecret,
  safeEqualHex,
  signRequest,
  HmacAuthError,
  buildHttpSignedHeaders,
  createHttpSignedFetchClient,
  signedHttpFetch,
  initializeHmacHttpAuth,
  initializeHmacMessageAuth,
  buildMessageSigningPayload,
  signMessage,
  verifyMessage,
  createHmacRuntime,
  captureRawBody,
  createExpressHttpHmacMiddleware,
  createHttpHmacMiddleware,
  verifyHttpSignature,
  buildRedisNamespaceKeys,
  RedisCredentialStore,
  RedisNonceStore,
  resolveNamespace,
} = cjs
