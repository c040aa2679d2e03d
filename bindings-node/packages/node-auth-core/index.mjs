import cjs from './index.js'

export const {
  AuthError,
  PasswordService,
  TokenService,
  JwksService,
  JwksClient,
  ApiKeyService,
  ApiKeyStrategy,
  createApiKeyMiddleware,
  TotpStrategy,
  native,
} = cjs
export default cjs
