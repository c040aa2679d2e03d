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
