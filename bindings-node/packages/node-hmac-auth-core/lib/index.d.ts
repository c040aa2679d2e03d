// Types of @authcore/node-hmac-auth-core: the public surface of
// @naskot/node-hmac-auth-core 1.0.0 (same names and shapes). The one extension: every
// `redis` option also accepts a store URL string (`redis://…`, `rediss://…`, `memory://`).

type MaybePromise<T> = T | Promise<T>

/** A node-redis v4 or ioredis style client (duck-typed, every member optional). */
export interface RedisLikeClient {
  hGet?: (key: string, field: string) => MaybePromise<string | null | undefined>
  hget?: (key: string, field: string) => MaybePromise<string | null | undefined>
  hSet?: (key: string, field: string, value: string) => MaybePromise<unknown>
  hset?: (key: string, field: string, value: string) => MaybePromise<unknown>
  hDel?: (key: string, field: string) => MaybePromise<unknown>
  hdel?: (key: string, field: string) => MaybePromise<unknown>
  hKeys?: (key: string) => MaybePromise<string[]>
  hkeys?: (key: string) => MaybePromise<string[]>
  set?: (key: string, value: string, ...args: any[]) => MaybePromise<unknown>
  get?: (key: string) => MaybePromise<string | null | undefined>
  del?: (key: string | string[]) => MaybePromise<unknown>
}

/** A RedisLikeClient, or a store URL: `redis://…` / `rediss://…` (the core talks to Redis, one round trip per verify) or `memory://[name]` (the embedded store). */
type RedisOption = RedisLikeClient | string

export interface SignInput {
  method: string
  path: string
  timestamp: number
  nonce: string
  body: string
  secret: string
}

export declare function hashClientSecret(secret: string, secretToken?: string): string
export declare function hashBody(body: string): string
export declare function buildSigningPayload(input: Omit<SignInput, 'secret'>): string
export declare function signRequest(input: SignInput): string
export declare function safeEqualHex(a: string, b: string): boolean

export declare class HmacAuthError extends Error {
  readonly code: string
  readonly status: number
  constructor(code: string, message: string, status?: number)
}

export interface VerifiedHttpRequest {
  clientId: string
  timestamp: number
  nonce: string
  signature: string
}
export type VerifiedRequest = VerifiedHttpRequest

export interface BadHttpSignatureEvent {
  clientId: string
  method: string
  path: string
  timestamp: number
  nonce: string
  receivedSignature: string
  expectedSignature: string
  headers: Record<string, string | string[] | undefined>
  rawBody?: unknown
  metadata?: unknown
}
export type OnBadHttpSignature = (event: BadHttpSignatureEvent) => void | Promise<void>

export interface VerifyHttpSignatureInput {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  rawBody?: unknown
  redis: RedisOption
  namespace?: string
  maxSkewMs?: number
  now?: number
  onBadSignature?: OnBadHttpSignature
  metadata?: unknown
}

export type VerifyHttpWithRedisInput = Omit<VerifyHttpSignatureInput, 'redis' | 'namespace'>

export declare function verifyHttpSignature(input: VerifyHttpSignatureInput): Promise<VerifiedHttpRequest>

export interface HmacClientCredential {
  clientId: string
  secretHash: string
  createdAt: number
  updatedAt: number
  expiresAt: number | null
  allowedIps: string[]
}
export interface HmacClientCredentialWithSecret extends HmacClientCredential {
  secret: string
}
export interface CreateHmacClientOptions {
  clientId: string
  expiresAt?: number | Date | null
  secretLengthBytes?: number
  plainSecret?: string
  allowedIps?: string[]
}
export interface RegenerateHmacSecretOptions {
  expiresAt?: number | Date | null
  secretLengthBytes?: number
  plainSecret?: string
  preserveExpiresAt?: boolean
  allowedIps?: string[]
}
export interface HmacCredentialRevertResult {
  reverted: boolean
  restoredSecretHash?: string
}

interface HmacClients {
  create(options: CreateHmacClientOptions): Promise<HmacClientCredentialWithSecret>
  listClientIds(): Promise<string[]>
  get(clientId: string): Promise<HmacClientCredential | null>
  delete(clientId: string): Promise<void>
  regenerateSecret(clientId: string, options?: RegenerateHmacSecretOptions): Promise<HmacClientCredentialWithSecret>
  setSecret(clientId: string, secret: string, expiresAt?: number | Date | null, allowedIps?: string[] | null): Promise<void>
  setSecretHash(clientId: string, secretHash: string, expiresAt?: number | Date | null, allowedIps?: string[] | null): Promise<void>
  setAllowedIps(clientId: string, allowedIps: string[] | null): Promise<void>
  getSecretHash(clientId: string): Promise<string | null>
  revert(clientId: string): Promise<HmacCredentialRevertResult>
}

type Middleware = (req: any, res: any, next: (err?: unknown) => void) => Promise<void>
type OnMiddlewareError = (err: HmacAuthError, req: any, res: any, next: (err?: unknown) => void) => void

export interface InitializeHmacHttpAuthOptions {
  redis: RedisOption
  namespace?: string
  maxSkewMs?: number
  defaultSecretLengthBytes?: number
  secretToken?: string
  onBadSignature?: OnBadHttpSignature
  dbSeedBackupTtlSeconds?: number
}

export interface InitializedHmacHttpAuth {
  readonly redis: RedisOption
  readonly namespace: string
  readonly maxSkewMs: number
  readonly secretToken: string | undefined
  verifyHttpRequest: Middleware
  verifyHttpSignature(input: VerifyHttpWithRedisInput): Promise<VerifiedHttpRequest>
  createHttpMiddleware(options?: { attachAuthTo?: string; maxSkewMs?: number; onError?: OnMiddlewareError; onBadSignature?: OnBadHttpSignature }): Middleware
  createExpressHttpMiddleware(options?: { attachAuthTo?: string; maxSkewMs?: number; onError?: OnMiddlewareError; onBadSignature?: OnBadHttpSignature }): Middleware
  createHttpSignedFetchClient(options: CreateHttpSignedFetchClientOptions): (url: string, options?: SignedHttpFetchClientCallOptions) => Promise<Response>
  clients: HmacClients
}

export declare function initializeHmacHttpAuth(options: InitializeHmacHttpAuthOptions): InitializedHmacHttpAuth

export interface SignedMessage {
  clientId: string
  messageHash: string
  signature: string
}
export interface SignMessageInput {
  clientId: string
  message: unknown
  secret: string
  secretIsHashed?: boolean
  hashToken?: string
}
export interface VerifyMessageInput extends SignMessageInput {
  signature: string
}
export interface SignMessageWithRedisInput {
  clientId: string
  message: unknown
}
export interface VerifyMessageWithRedisInput extends SignMessageWithRedisInput {
  signature: string
}

export declare function buildMessageSigningPayload(input: { clientId: string; messageHash: string }): string
export declare function signMessage(input: SignMessageInput): SignedMessage
export declare function verifyMessage(input: VerifyMessageInput): boolean

export interface InitializeHmacMessageAuthOptions {
  redis: RedisOption
  namespace?: string
  defaultSecretLengthBytes?: number
  secretToken?: string
  dbSeedBackupTtlSeconds?: number
}
export interface InitializedHmacMessageAuth {
  readonly redis: RedisOption
  readonly namespace: string
  readonly secretToken: string | undefined
  signMessage(input: SignMessageWithRedisInput): Promise<SignedMessage>
  verifyMessage(input: VerifyMessageWithRedisInput): Promise<SignedMessage>
  clients: HmacClients
}
export declare function initializeHmacMessageAuth(options: InitializeHmacMessageAuthOptions): InitializedHmacMessageAuth

type SignedBody = string | Buffer | Uint8Array | URLSearchParams | Record<string, unknown> | null

export interface BuildHttpSignedHeadersInput {
  method: string
  url: string
  body: SignedBody
  clientId: string
  secret: string
  secretIsHashed?: boolean
  hashToken?: string
  nonce?: string
  timestamp?: number
  headers?: HeadersInit
}
export type SignedHttpFetchOptions = Omit<RequestInit, 'headers' | 'body' | 'method'> & {
  method?: string
  headers?: HeadersInit
  body?: SignedBody
  clientId: string
  secret: string
  secretIsHashed?: boolean
  hashToken?: string
  nonce?: string
  timestamp?: number
  fetchImpl?: typeof fetch
}
export interface CreateHttpSignedFetchClientOptions {
  clientId: string
  secret: string
  secretIsHashed?: boolean
  hashToken?: string
  defaultHeaders?: HeadersInit
  fetchImpl?: typeof fetch
}
export type SignedHttpFetchClientCallOptions = Omit<SignedHttpFetchOptions, 'clientId' | 'secret' | 'secretIsHashed' | 'fetchImpl'>

export declare function buildHttpSignedHeaders(input: BuildHttpSignedHeadersInput): Headers
export declare function signedHttpFetch(url: string, options: SignedHttpFetchOptions): Promise<Response>
export declare function createHttpSignedFetchClient(options: CreateHttpSignedFetchClientOptions): (url: string, options?: SignedHttpFetchClientCallOptions) => Promise<Response>

export interface ExpressHmacMiddlewareOptions {
  redis: RedisOption
  namespace?: string
  maxSkewMs?: number
  attachAuthTo?: string
  onError?: OnMiddlewareError
  onBadSignature?: OnBadHttpSignature
}
export type HttpHmacMiddlewareOptions = ExpressHmacMiddlewareOptions
export declare function createExpressHttpHmacMiddleware(options: ExpressHmacMiddlewareOptions): Middleware
export declare function createHttpHmacMiddleware(options: HttpHmacMiddlewareOptions): Middleware
export declare function captureRawBody(req: any, res: any, buf: Buffer): void

export interface HmacRuntime {
  createSignedFetchFromClientId(clientId: string): Promise<(url: string, options?: SignedHttpFetchClientCallOptions) => Promise<Response>>
  signedFetchWithClientId(input: string, clientId: string, options?: SignedHttpFetchClientCallOptions): Promise<Response>
  hmacHttpMiddleware(...clientIds: string[]): (req: any, res: any, next: (err?: unknown) => void) => Promise<void>
}
export declare function createHmacRuntime(auth: Pick<InitializedHmacHttpAuth, 'clients' | 'createHttpSignedFetchClient' | 'verifyHttpRequest'>): HmacRuntime

export declare function resolveNamespace(namespace?: string): string
export declare function buildRedisNamespaceKeys(namespace?: string): {
  clientsHashKey: string
  nonceKeyPrefix: string
  credentialBackupKeyPrefix: string
}

interface StoredClientCredentialRecord {
  secretHash: string
  createdAt: number
  updatedAt: number
  expiresAt: number | null
  allowedIps: string[]
}
export declare class RedisCredentialStore {
  constructor(client: RedisLikeClient, namespace?: string)
  setBackupSecretHash(clientId: string, secretHash: string, ttlSeconds: number): Promise<void>
  getBackupSecretHash(clientId: string): Promise<string | null>
  clearBackupSecretHash(clientId: string): Promise<void>
  getClientRecord(clientId: string): Promise<StoredClientCredentialRecord | null>
  setClientRecord(clientId: string, record: StoredClientCredentialRecord): Promise<void>
  getSecretHash(clientId: string): Promise<string | null>
  setSecretHash(clientId: string, secretHash: string): Promise<void>
  listClientIds(): Promise<string[]>
  deleteClient(clientId: string): Promise<void>
}
export declare class RedisNonceStore {
  constructor(client: RedisLikeClient, namespace?: string)
  consume(key: string, ttlSeconds: number): Promise<boolean>
}
