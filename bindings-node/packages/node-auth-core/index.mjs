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
  AuthEventBus,
  AuthEventNames,
  SseManager,
  WebhookSender,
  AuthTools,
  ActionRegistry,
  webhookAction,
  SseNotifyRegistry,
  sseNotify,
  createToolsRouter,
  buildOpenApiSpec,
  buildSwaggerUiHtml,
  RedisSseDistributor,
  createRedisDistributor,
  native,
} = cjs
export default cjs
