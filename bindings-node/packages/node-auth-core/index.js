'use strict'
// @authcore/node-auth-core: drop-in PasswordService, TokenService, ApiKeyService,
// ApiKeyStrategy, TotpStrategy, JwksService/JwksClient and AuthError of awesome-node-auth
// 1.9.0, over the authcore Rust core. The native primitives (Auth Server TokenManager,
// PKCE and authorization codes, authrs policies, ...) are re-exported as `native`.
const native = require('./lib/native')
const { AuthError } = require('./lib/errors')
const { PasswordService } = require('./lib/password.service')
const { TokenService } = require('./lib/token.service')
const { JwksService, JwksClient } = require('./lib/jwks.service')
const { ApiKeyService, ApiKeyStrategy, createApiKeyMiddleware } = require('./lib/api-key')
const { TotpStrategy } = require('./lib/totp.strategy')
const { AuthEventBus, AuthEventNames } = require('./lib/tools/event-bus')
const { SseManager } = require('./lib/tools/sse-manager')
const { WebhookSender } = require('./lib/tools/webhook-sender')
const { AuthTools } = require('./lib/tools/auth-tools')
const { ActionRegistry, webhookAction } = require('./lib/tools/webhook-action')
const { SseNotifyRegistry, sseNotify } = require('./lib/tools/sse-notify')
const { createToolsRouter, buildOpenApiSpec, buildSwaggerUiHtml } = require('./lib/tools/tools-router')
const { RedisSseDistributor, createRedisDistributor } = require('./lib/tools/redis-distributor')

module.exports = {
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
}
