// Types of @authcore/node-hmac-auth-core-propagation: the public surface of
// @naskot/node-hmac-auth-core-propagation 1.0.0 (same names and shapes). Two deliberate
// differences: `hmacHttpAuth` / `hmacMessageAuth` are typed structurally (what the
// propagator uses of a core instance), so instances of @naskot/node-hmac-auth-core or of
// @authcore/node-hmac-auth-core both fit without importing either; and `redis` also
// accepts a store URL string (`redis://…`, `rediss://…`, `memory://`).

export type HmacPropagationErrorCode = "MANAGEMENT_NOT_CONFIGURED" | "UNKNOWN_CLIENT" | "INVALID_OPTIONS" | "INTERNAL_ERROR";

export declare class HmacPropagationError extends Error {
  readonly code: HmacPropagationErrorCode;
  readonly cause?: unknown;
  constructor(code: HmacPropagationErrorCode, message?: string, cause?: unknown);
}

// Subset of the node-redis v4+ surface used for the monotonic cursor and the ack store.
export interface PropagationRedisClient {
  hGet: (key: string, field: string) => Promise<string | null | undefined>;
  hSet: (key: string, fields: Record<string, string>) => Promise<unknown>;
  hGetAll: (key: string) => Promise<Record<string, string>>;
  hDel: (key: string, field: string | string[]) => Promise<unknown>;
  sAdd: (key: string, member: string | string[]) => Promise<unknown>;
  sRem: (key: string, member: string | string[]) => Promise<unknown>;
  sCard: (key: string) => Promise<number>;
  expire: (key: string, seconds: number) => Promise<unknown>;
  del: (key: string | string[]) => Promise<unknown>;
}

export type PropagationTrack = "http" | "message";

export type PropagationOp = "credential.create" | "credential.update" | "credential.delete";

type PropagationAckOp = "credential.ack";

export type AckResult = "applied" | "error";

// Inputs passed by the lib to management callbacks.
export interface UpsertInput {
  clientId: string;
  track: PropagationTrack;
  op: PropagationOp;
  secretPlain: string | null;
  allowedIps?: string[];
  expiresAt?: number | null;
  targets: string[];
}

export interface RotateInput {
  clientId: string;
  track: PropagationTrack;
  secretPlain: string;
}

export interface TargetSentInput {
  clientId: string;
  targetAmqpQueue: string;
  sentAt: number;
  attemptCount: number;
}

export interface TargetSuccessInput {
  clientId: string;
  targetAmqpQueue: string;
  appliedAt: number;
}

export interface TargetErrorInput {
  clientId: string;
  targetAmqpQueue: string;
  reason: string;
  failedAt: number;
}

export interface FullyPropagatedInput {
  clientId: string;
  finalStatus: "success" | "partial" | "error";
  at: number;
}

// Returns expected from management callbacks.
export interface PendingPropagation {
  clientId: string;
  track: PropagationTrack;
  op: PropagationOp;
  secretPlain: string | null;
  allowedIps?: string[];
  expiresAt?: number | null;
  pendingTargets: Array<{
    targetAmqpQueue: string;
    propagationSecret: string;
  }>;
}

// The 8 callbacks of full mode.
export interface PropagatorManagement {
  upsertCredentialWithTargets: (input: UpsertInput) => Promise<void>;
  rotateCredentialSecret: (input: RotateInput) => Promise<void>;
  markTargetSent: (input: TargetSentInput) => Promise<void>;
  markTargetSuccess: (input: TargetSuccessInput) => Promise<void>;
  markTargetError: (input: TargetErrorInput) => Promise<void>;
  markCredentialFullyPropagated: (input: FullyPropagatedInput) => Promise<void>;
  fetchPendingPropagations: () => Promise<PendingPropagation[]>;
  fetchSourcePropagationSecret: (senderAmqpQueue: string) => Promise<string | null>;
}

export interface Logger {
  info: (...args: unknown[]) => void;
  warn: (...args: unknown[]) => void;
  error: (...args: unknown[]) => void;
}

/** What the propagator uses of an initialised core instance (`InitializedHmacHttpAuth` / `InitializedHmacMessageAuth`). */
interface PropagationHmacAuth {
  readonly secretToken?: string | undefined;
  clients: {
    get(clientId: string): Promise<unknown>;
    setSecretHash(clientId: string, secretHash: string, expiresAt?: number, allowedIps?: string[]): Promise<unknown>;
    delete(clientId: string): Promise<unknown>;
  };
}

export interface PropagatorOptions {
  // AMQP connection. The lib drives RabbitMQ internally and never exposes a channel.
  amqpHost: string;
  amqpPort: number;
  amqpUser: string;
  amqpPassword: string;
  /**
   * `"memory"` (authcore extension): link to the in-process mesh named `amqpHost` instead of
   * RabbitMQ; every propagator of this process with the same name is one mesh.
   */
  amqpProtocol: "amqp" | "amqps" | "memory";
  amqpVhost?: "hmac-credentials";
  amqpQueue: string;

  // The peer's own env propagationSecret, used to verify inbound events.
  propagationSecret: string;

  // Redis client used for the monotonic cursor and the ack store, or a store URL
  // (`redis://…`, `rediss://…`, `memory://`: the core talks to it itself).
  redis: PropagationRedisClient | string;

  // authcore only. With a node-redis client object whose options name a `redis://` server,
  // the state goes over a native connection to that server once a probe written through
  // the client confirms it is the same server and database (default); `false` keeps every
  // Redis command on the client object.
  nativeRedis?: boolean;

  // At least one of the two must be provided.
  hmacHttpAuth?: PropagationHmacAuth;
  hmacMessageAuth?: PropagationHmacAuth;

  // Without management, the lib runs in receive-only mode.
  management?: PropagatorManagement;

  logger?: Logger;

  /**
   * authcore only (signed events; all default `false`, which is wire v1).
   * `signEvents`: every event this peer sends carries an HMAC-SHA256 of its body in the AMQP
   * header `x-authcore-signature` (v1 peers ignore it), keyed per sender/recipient pair from
   * the recipient's propagation secret.
   * `requireSignedEvents`: drop (log, ack, never apply, no ACK back) every inbound event whose
   * signature is missing or wrong.
   * `omitSecretFromSignedEvents`: signed events carry `propagationSecret: ""` instead of the
   * recipient's secret (implies `signEvents`); only peers with `requireSignedEvents` accept
   * them, so use it when every peer of the mesh is strict.
   */
  signEvents?: boolean;
  requireSignedEvents?: boolean;
  omitSecretFromSignedEvents?: boolean;
}

// Inputs for the high level helpers exposed on the propagator instance.
export interface EnsureInput {
  clientId: string;
  secret: string;
  targets: string[];
  track?: PropagationTrack;
  allowedIps?: string[];
  expiresAt?: number | null;
}

export interface RotateInputUsage {
  clientId: string;
  secret: string;
  track?: PropagationTrack;
}

export interface RevokeInput {
  clientId: string;
  targets: string[];
  track?: PropagationTrack;
}

export interface SyncSummary {
  propagationsRead: number;
  targetsPublished: number;
  targetsRetrying: number;
  durationMs: number;
}

export interface Propagator {
  close: () => Promise<void>;
  ensure: (input: EnsureInput) => Promise<{ clientId: string; op: "credential.create" | "credential.update" }>;
  rotate: (input: RotateInputUsage) => Promise<{ clientId: string }>;
  revoke: (input: RevokeInput) => Promise<{ clientId: string }>;
  sync: () => Promise<SyncSummary>;
}

// Wire shapes, frozen v1.
export interface ApplyEvent {
  eventId: string;
  ts: number;
  propagationSecret: string;
  senderAmqpQueue: string;
  op: PropagationOp;
  track: PropagationTrack;
  clientId: string;
  payload: {
    secretHash: string;
    allowedIps?: string[];
    expiresAt?: number | null;
  };
}

export interface AckEvent {
  eventId: string;
  ts: number;
  propagationSecret: string;
  senderAmqpQueue: string;
  op: PropagationAckOp;
  ackEventId: string;
  ackResult: AckResult;
  ackReason: string | null;
}

export type AnyEvent = ApplyEvent | AckEvent;

export declare function createPropagator(options: PropagatorOptions): Promise<Propagator>;

export declare function buildQueueName(amqpQueue: string): string;

export declare const DEFAULT_AMQP_VHOST = "hmac-credentials";

// Only the declarations marked `export` above are public.
export {};
