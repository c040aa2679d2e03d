// Types of @authcore/node-auth-core (the shapes of awesome-node-auth 1.9.0's services).

export declare class AuthError extends Error {
  readonly code: string
  readonly statusCode: number
  readonly data?: Record<string, unknown>
  constructor(message: string, code: string, statusCode?: number, data?: Record<string, unknown>)
}

export interface AccessTokenPayload {
  sub: string
  email: string
  role?: string
  loginProvider?: string
  isEmailVerified?: boolean
  isTotpEnabled?: boolean
  sid?: string
  iat?: number
  exp?: number
  iss?: string
  /** Added by authcore: `access`, `refresh` or `mfa_pending`. */
  token_use?: string
  [key: string]: unknown
}

export interface TokenPair {
  accessToken: string
  refreshToken: string
}

export interface IdProviderConfig {
  enabled?: boolean
  privateKey?: string
  publicKey?: string
  issuer?: string
  tokenExpiry?: string | number
  refreshTokenExpiry?: string | number
  jwksPath?: string
}

export interface AuthConfig {
  accessTokenSecret: string
  refreshTokenSecret: string
  accessTokenExpiresIn?: string | number
  refreshTokenExpiresIn?: string | number
  apiPrefix?: string
  cookieOptions?: {
    secure?: boolean
    sameSite?: 'strict' | 'lax' | 'none'
    domain?: string
    path?: string
    refreshTokenPath?: string
  }
  csrf?: { enabled?: boolean }
  idProvider?: IdProviderConfig
  [key: string]: unknown
}

export declare class PasswordService {
  hash(password: string, saltRounds?: number | string): Promise<string>
  compare(password: string, hash: string): Promise<boolean>
  /** authcore addition: argon2id (OWASP) hash. */
  hashArgon2(password: string): Promise<string>
  /** authcore addition: login check with bcrypt → argon2id migration; `hash` null for unknown users. */
  verifyAndUpgrade(password: string, hash: string | null | undefined): Promise<{ valid: boolean; rehash?: string | null }>
  needsRehash(hash: string): boolean
}

export interface JWK {
  kty: string
  use: string
  alg: string
  kid: string
  n: string
  e: string
}

export interface JwksDocument {
  keys: JWK[]
}

export interface JwksClientOptions {
  cacheTtl?: number
  fetchTimeout?: number
}

export declare class JwksClient {
  readonly jwksUrl: string
  constructor(jwksUrl: string, options?: JwksClientOptions)
  getJwks(): Promise<JwksDocument>
  getKey(kid: string): Promise<JWK | null>
  invalidateCache(): void
}

export declare class JwksService {
  static generateKeypair(): { privateKey: string; publicKey: string }
  static generateKeypairAsync(): Promise<{ privateKey: string; publicKey: string }>
  static derivePublicKey(privateKeyPem: string): string
  static publicKeyToJwk(publicKeyPem: string, kid: string): JWK
  static buildJwksDocument(publicKeyPem: string, kid?: string): JwksDocument
  static createRemoteClient(jwksUrl: string, options?: JwksClientOptions): JwksClient
  static jwkToPublicKey(jwk: JWK): string
}

export declare class TokenService {
  generateTokenPair(payload: AccessTokenPayload, config: AuthConfig): TokenPair
  verifyAccessToken(token: string, config: AuthConfig): AccessTokenPayload
  verifyRefreshToken(token: string, config: AuthConfig): AccessTokenPayload
  generateTempToken(payload: AccessTokenPayload, config: AuthConfig, expiresIn?: string | number): string
  verifyTempToken(token: string, config: AuthConfig): AccessTokenPayload
  hashRefreshToken(token: string): string
  compareRefreshToken(presented: string, stored: string): boolean
  generateIdProviderTokenPair(payload: AccessTokenPayload, config: AuthConfig): TokenPair
  verifyWithJwks(
    token: string,
    client: Pick<JwksClient, 'getKey' | 'invalidateCache'>,
    expectedIssuer?: string,
    expectedAudience?: string | string[],
  ): Promise<AccessTokenPayload>
  setTokenCookies(res: unknown, tokens: TokenPair, config: AuthConfig): void
  initCsrfToken(res: unknown, config: AuthConfig): void
  clearTokenCookies(res: unknown, config?: AuthConfig): void
  generateSecureToken(bytes?: number): string
  extractTokenFromCookie(req: unknown, cookieName: string): string | null
}

export interface ApiKey {
  id: string
  name: string
  keyHash: string
  keyPrefix: string
  serviceId: string | null
  scopes: string[]
  allowedIps: string[] | null
  isActive: boolean
  expiresAt: Date | null
  createdAt: Date
  lastUsedAt: Date | null
}

export interface ApiKeyAuditEntry {
  keyId: string
  timestamp: Date
  ip?: string
  userAgent?: string
  success: boolean
  failureReason?: string
}

export interface IApiKeyStore {
  save(key: ApiKey): Promise<void>
  /** May return several records (prefix collisions); all are checked. */
  findByPrefix(prefix: string): Promise<ApiKey | ApiKey[] | null>
  findAllByPrefix?(prefix: string): Promise<ApiKey[]>
  findById(id: string): Promise<ApiKey | null>
  revoke(id: string): Promise<void>
  updateLastUsed(id: string, at?: Date): Promise<void>
  logUsage?(entry: ApiKeyAuditEntry): Promise<void>
  [key: string]: unknown
}

export interface CreateApiKeyOptions {
  name: string
  serviceId?: string
  scopes?: string[]
  allowedIps?: string[]
  expiresAt?: Date
  saltRounds?: number
}

export declare class ApiKeyService {
  constructor(saltRounds?: number, options?: { hash?: 'bcrypt' | 'sha256' })
  createKey(store: IApiKeyStore, options: CreateApiKeyOptions): Promise<{ rawKey: string; record: ApiKey }>
  verifyKey(rawKey: string, hash: string): Promise<boolean>
  extractPrefix(rawKey: string): string
}

export interface ApiKeyStrategyOptions {
  enforceIpAllowlist?: boolean
  requiredScopes?: string[]
  auditLog?: boolean
}

export interface ApiKeyContext {
  keyId: string
  keyPrefix: string
  name: string
  serviceId: string | null
  scopes: string[]
}

export declare class ApiKeyStrategy {
  constructor(store: IApiKeyStore, options?: ApiKeyStrategyOptions)
  authenticate(headers: Record<string, string | string[] | undefined>, remoteIp?: string): Promise<ApiKeyContext>
}

export declare function createApiKeyMiddleware(
  store: IApiKeyStore,
  options?: ApiKeyStrategyOptions,
): (req: any, res: any, next: (err?: unknown) => void) => void

export declare class TotpStrategy {
  constructor(options?: { window?: number; replayProtection?: boolean })
  generateSecret(email: string, appName?: string): { secret: string; otpauthUrl: string; qrCode: Promise<string> }
  verify(token: string, secret: string): Promise<boolean>
  verifyDetailed(
    token: string,
    secret: string,
    options?: { lastUsedStep?: number; window?: number; now?: number },
  ): { valid: boolean; step?: number; code?: string }
  enable(userId: string, secret: string, userStore: { updateTotpSecret(id: string, s: string | null): Promise<void> }): Promise<void>
  disable(userId: string, userStore: { updateTotpSecret(id: string, s: string | null): Promise<void> }): Promise<void>
}

/** The native addon (TokenManager, AuthorizationServer, PolicyEngine, PKCE, ...). */
export declare const native: typeof import('@authcore/native')

// ---- AuthTools: event bus, telemetry, SSE, webhooks, tools router -------------------

import type { EventEmitter } from 'node:events'

export declare const AuthEventNames: {
  readonly USER_CREATED: 'identity.user.created'
  readonly USER_DELETED: 'identity.user.deleted'
  readonly USER_EMAIL_VERIFIED: 'identity.user.email.verified'
  readonly USER_PASSWORD_CHANGED: 'identity.user.password.changed'
  readonly USER_2FA_ENABLED: 'identity.user.2fa.enabled'
  readonly USER_2FA_DISABLED: 'identity.user.2fa.disabled'
  readonly USER_LINKED: 'identity.user.linked'
  readonly USER_UNLINKED: 'identity.user.unlinked'
  readonly SESSION_CREATED: 'identity.session.created'
  readonly SESSION_REVOKED: 'identity.session.revoked'
  readonly SESSION_EXPIRED: 'identity.session.expired'
  readonly SESSION_ROTATED: 'identity.session.rotated'
  readonly AUTH_LOGIN_SUCCESS: 'identity.auth.login.success'
  readonly AUTH_LOGIN_FAILED: 'identity.auth.login.failed'
  readonly AUTH_LOGOUT: 'identity.auth.logout'
  readonly AUTH_OAUTH_SUCCESS: 'identity.auth.oauth.success'
  readonly AUTH_OAUTH_CONFLICT: 'identity.auth.oauth.conflict'
  readonly TENANT_CREATED: 'identity.tenant.created'
  readonly TENANT_DELETED: 'identity.tenant.deleted'
  readonly TENANT_USER_ADDED: 'identity.tenant.user.added'
  readonly TENANT_USER_REMOVED: 'identity.tenant.user.removed'
  readonly ROLE_ASSIGNED: 'identity.role.assigned'
  readonly ROLE_REVOKED: 'identity.role.revoked'
  readonly PERMISSION_GRANTED: 'identity.permission.granted'
  readonly PERMISSION_REVOKED: 'identity.permission.revoked'
}
export type AuthEventName = (typeof AuthEventNames)[keyof typeof AuthEventNames]

export interface AuthEventPayload {
  event: string
  timestamp: string
  data?: unknown
  userId?: string
  tenantId?: string
  sessionId?: string
  correlationId?: string
  ip?: string
  userAgent?: string
}

export declare class AuthEventBus extends EventEmitter {
  publish(eventName: string, payload: Omit<AuthEventPayload, 'event' | 'timestamp'> & { timestamp?: string }): void
  onEvent(eventName: string, handler: (payload: AuthEventPayload) => void): this
  offEvent(eventName: string, handler: (payload: AuthEventPayload) => void): this
}

export interface TelemetryEvent {
  id: string
  event: string
  timestamp: string
  data?: unknown
  userId?: string
  tenantId?: string
  sessionId?: string
  correlationId?: string
  ip?: string
  userAgent?: string
}

export interface TelemetryFilter {
  event?: string
  userId?: string
  tenantId?: string
  sessionId?: string
  from?: Date
  to?: Date
  limit?: number
  offset?: number
}

export interface ITelemetryStore {
  save(event: TelemetryEvent): Promise<void>
  query?(filter: TelemetryFilter): Promise<TelemetryEvent[]>
}

export interface WebhookConfig {
  id: string
  url: string
  events: string[]
  secret?: string
  isActive?: boolean
  tenantId?: string
  maxRetries?: number
  retryDelayMs?: number
  provider?: string
  allowedActions?: string[]
  jsScript?: string
}

export interface OutgoingWebhookEvent {
  event: string
  version: string
  timestamp: string
  data: unknown
  metadata?: Record<string, unknown>
}

export interface IWebhookStore {
  findByEvent(event: string, tenantId?: string): Promise<WebhookConfig[]>
  listAll?(limit?: number, offset?: number): Promise<WebhookConfig[]>
  add?(config: Omit<WebhookConfig, 'id'>): Promise<WebhookConfig>
  remove?(id: string): Promise<void>
  update?(id: string, changes: Partial<Omit<WebhookConfig, 'id'>>): Promise<void>
  findByProvider?(provider: string): Promise<WebhookConfig | null>
}

export interface WebhookSenderOptions {
  /** Deliver to loopback / private / link-local addresses too (refused by default). */
  allowInternalUrls?: boolean
  /** Timeout of one attempt (default 10000 ms). */
  timeoutMs?: number
  /**
   * The resolver the connection uses (`dns.lookup`'s signature; default `dns.lookup`).
   * Whatever it answers is checked by the core before the socket connects, and only the
   * checked addresses are connected to.
   */
  lookup?: (
    hostname: string,
    options: { family?: number; hints?: number; all?: boolean },
    callback: (err: Error | null, addresses: Array<{ address: string; family: number }>) => void,
  ) => void
  /**
   * Deliver through this fetch instead of node:http(s) (the original used the global
   * fetch). Its own lookup is not checked: the host name is checked once just before.
   */
  fetch?: (url: string, init: { method: string; headers: Record<string, string>; body: string; redirect: 'manual'; signal: AbortSignal }) => Promise<{ status: number; arrayBuffer(): Promise<ArrayBuffer> }>
}

export interface WebhookDeliveryOutcome {
  ok: boolean
  attempts: number
  status?: number
  deliveryId: string
  error?: string
}

export declare class WebhookSender {
  constructor(options?: WebhookSenderOptions)
  send(config: WebhookConfig, event: OutgoingWebhookEvent): Promise<void>
  deliver(config: WebhookConfig, event: OutgoingWebhookEvent): Promise<WebhookDeliveryOutcome>
  sign(body: string, secret: string): string
  verify(body: string, secret: string, signature: string): boolean
}

export interface StreamEvent<T = unknown> {
  id: string
  type: string
  timestamp: string
  topic: string
  data: T
  userId?: string
  tenantId?: string
  metadata?: Record<string, unknown>
}

/** Cross-process fan-out; the manager expects its own publishes echoed back. */
export interface ISseDistributor {
  publish(topic: string, event: any): Promise<void>
  subscribe(callback: (topic: string, event: any) => void): Promise<void>
}

export interface SseManagerOptions {
  heartbeatIntervalMs?: number
  distributor?: ISseDistributor
  deduplicate?: boolean
  /** Limits added by authcore (defaults: 100000, 32, 64 topics, 1 MiB, 1 MiB, 1024 events, 8 MiB). */
  maxConnections?: number
  maxConnectionsPerUser?: number
  maxTopicsPerConnection?: number
  maxQueueBytes?: number
  maxEventBytes?: number
  replayBufferSize?: number
  replayBufferBytes?: number
}

export interface SseResponse {
  setHeader(name: string, value: string): unknown
  write(chunk: string): boolean | void
  end(): unknown
  flushHeaders?(): void
  on?(event: 'close', listener: () => void): unknown
  once?(event: 'drain', listener: () => void): unknown
}

export declare class SseManager {
  constructor(options?: SseManagerOptions)
  connect(
    res: SseResponse,
    topics: string[],
    meta?: { userId?: string; tenantId?: string; sessionId?: string; lastEventId?: string },
  ): string
  broadcast<T = unknown>(topic: string, event: Omit<StreamEvent<T>, 'id' | 'timestamp' | 'topic'> & { id?: string; timestamp?: string }): void
  disconnect(connectionId: string): void
  disconnectSession(sessionId: string): number
  disconnectUser(userId: string): number
  readonly connectionCount: number
}

export interface TrackOptions {
  userId?: string
  tenantId?: string
  sessionId?: string
  correlationId?: string
  ip?: string
  userAgent?: string
}

export interface NotifyOptions {
  type?: string
  tenantId?: string
  userId?: string
  metadata?: Record<string, unknown>
  channels?: ('sse' | 'email' | 'sms')[]
  emailSubject?: string
  smsMessage?: string
}

export interface AuthToolsOptions {
  telemetryStore?: ITelemetryStore
  webhookStore?: IWebhookStore
  sse?: boolean
  sseOptions?: SseManagerOptions
  webhookVersion?: string
  /** Stream telemetry's ip and userAgent to SSE subscribers (off: authcore's default). */
  sseIncludeClientInfo?: boolean
  webhookOptions?: WebhookSenderOptions
  /** Looked up (`findById`) for notify's email and SMS channels. */
  userStore?: { findById(id: string): Promise<{ email?: string; phoneNumber?: string } | null | undefined> }
  /** The original's mailer config: kept for `from`/`fromName`; needs `sendEmail`. */
  emailConfig?: { endpoint?: string; apiKey?: string; from?: string; fromName?: string; provider?: string; defaultLang?: string }
  /** The original's SMS gateway config: needs `sendSms`. */
  smsConfig?: { endpoint?: string; apiKey?: string; username?: string; password?: string; codeExpiresInMinutes?: number }
  /** authcore addition: sends notify's email (fire-and-forget, errors swallowed). The HTML is escaped. */
  sendEmail?: (message: NotifyEmail) => unknown
  /** authcore addition: sends notify's SMS (fire-and-forget, errors swallowed). */
  sendSms?: (message: NotifySms) => unknown
}

export interface NotifyEmail {
  to: string
  subject: string
  text: string
  html: string
  from?: string
  fromName?: string
}

export interface NotifySms {
  to: string
  message: string
}

export declare class AuthTools {
  constructor(eventBus: AuthEventBus, options?: AuthToolsOptions)
  readonly eventBus: AuthEventBus
  readonly sseManager: SseManager | null
  track(eventName: string, data?: unknown, options?: TrackOptions): Promise<void>
  notify<T = unknown>(target: string, data: T, options?: NotifyOptions): Promise<void>
}

export interface WebhookActionMeta {
  id: string
  label: string
  category: string
  description: string
  dependsOn?: string[]
}

export interface RegisteredAction extends WebhookActionMeta {
  fn: (...args: any[]) => unknown
}

export declare class ActionRegistry {
  static register(entry: RegisteredAction): void
  static getAll(): RegisteredAction[]
  static getAllMeta(): WebhookActionMeta[]
  static get(id: string): RegisteredAction | undefined
  static buildContext(enabledIds: string[], allowedIds: string[]): Record<string, (...args: any[]) => unknown>
  static clear(): void
}

export declare function webhookAction(
  meta: WebhookActionMeta,
): <F extends (...args: any[]) => unknown>(method: F, context: ClassMethodDecoratorContext | { kind: string; name: string | symbol }) => F

export interface SseNotifyOptions {
  topic: string | ((args: any[], result: any) => string)
  event?: string
  payload?: (result: any, args: any[]) => any
  tenantId?: (result: any, args: any[]) => string | undefined
  userId?: (result: any, args: any[]) => string | undefined
}

export declare class SseNotifyRegistry {
  static setManager(manager: SseManager | null): void
  static notify(topic: string, event: { type: string; data: unknown; tenantId?: string; userId?: string }): void
  static executeNotify(options: SseNotifyOptions, args: any[], result: unknown): Promise<void>
}

export declare function sseNotify(
  options: SseNotifyOptions,
): <F extends (...args: any[]) => any>(
  method: F,
  context: ClassMethodDecoratorContext | { kind: string; name: string | symbol },
) => (...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>>

export interface InboundWebhookResult {
  event: string
  data?: unknown
  userId?: string
  tenantId?: string
}

export interface ToolsRouterOptions {
  telemetry?: boolean
  notify?: boolean
  stream?: boolean
  webhook?: boolean
  authMiddleware?: (req: any, res: any, next: (err?: unknown) => void) => void
  telemetryStore?: ITelemetryStore
  onWebhook?: (provider: string, body: unknown, req: any) => Promise<InboundWebhookResult | null>
  webhookStore?: IWebhookStore
  settingsStore?: { getSettings(): Promise<{ enabledWebhookActions?: string[] } & Record<string, unknown>> }
  swagger?: boolean | 'auto'
  swaggerBasePath?: string
  /** Who may POST /notify/:target (default: an authenticated caller, its own user topic only). */
  authorizeNotify?: (req: any, target: string) => boolean | Promise<boolean>
  /** Let the body's userId / tenantId override the authenticated identity (the original's behaviour). */
  trustClientIdentity?: boolean
  /**
   * Signed inbound deliveries (provider config with a `secret`): how far `X-Webhook-Timestamp`
   * may be from now, in ms (default 300000; 0: no timestamp required).
   */
  webhookTimestampWindowMs?: number
  /**
   * Where inbound delivery ids and signatures are remembered for twice the window (default:
   * in this process). `claim` answers true when the key was not held (e.g. Redis SET NX PX).
   */
  webhookReplayStore?: WebhookReplayStore
}

/** authcore addition: a replay store for inbound webhooks shared by several processes. */
export interface WebhookReplayStore {
  claim(key: string, ttlMs: number): boolean | Promise<boolean>
  release?(key: string): unknown
}

export declare function createToolsRouter(tools: AuthTools, options?: ToolsRouterOptions): any
export declare function buildOpenApiSpec(options?: ToolsRouterOptions, basePath?: string): Record<string, any>
export declare function buildSwaggerUiHtml(specUrl?: string): string

/** authcore addition: an ISseDistributor over Redis pub/sub (the core's), shared with authcore.events (Python). */
export declare class RedisSseDistributor implements ISseDistributor {
  constructor(url: string, options?: { channel?: string })
  readonly channel: string
  connect(): Promise<void>
  publish(topic: string, event: any): Promise<void>
  subscribe(callback: (topic: string, event: any) => void): Promise<void>
  readonly dropped: number
  close(): Promise<void>
}
export declare function createRedisDistributor(url: string, options?: { channel?: string }): RedisSseDistributor
