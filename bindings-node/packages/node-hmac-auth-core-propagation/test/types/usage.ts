// Compile-only test of the .d.ts: code written against
// @naskot/node-hmac-auth-core-propagation 1.0.0's types must type-check unchanged against
// ours (every exported type is used below), and misuse must still be rejected (each
// `@ts-expect-error` fails the build if the line stops being an error).
import {
  buildQueueName,
  createPropagator,
  DEFAULT_AMQP_VHOST,
  HmacPropagationError,
  type AckEvent,
  type AckResult,
  type AnyEvent,
  type ApplyEvent,
  type EnsureInput,
  type FullyPropagatedInput,
  type HmacPropagationErrorCode,
  type Logger,
  type PendingPropagation,
  type PropagationOp,
  type PropagationRedisClient,
  type PropagationTrack,
  type Propagator,
  type PropagatorManagement,
  type PropagatorOptions,
  type RevokeInput,
  type RotateInput,
  type RotateInputUsage,
  type SyncSummary,
  type TargetErrorInput,
  type TargetSentInput,
  type TargetSuccessInput,
  type UpsertInput,
} from "@authcore/node-hmac-auth-core-propagation";
// @ts-expect-error internal in the original: not exported
import type { PropagationAckOp } from "@authcore/node-hmac-auth-core-propagation";
// @ts-expect-error a helper of our .d.ts: not exported
import type { PropagationHmacAuth } from "@authcore/node-hmac-auth-core-propagation";
import { initializeHmacHttpAuth, initializeHmacMessageAuth, type RedisLikeClient } from "@authcore/node-hmac-auth-core";

declare const redisClient: RedisLikeClient & PropagationRedisClient;

const httpAuth = initializeHmacHttpAuth({ redis: redisClient, namespace: "hmac:http", secretToken: process.env.HMAC_SECRET_TOKEN });
const messageAuth = initializeHmacMessageAuth({ redis: redisClient, namespace: "hmac:message" });

const rows: PendingPropagation[] = [];
const management: PropagatorManagement = {
  upsertCredentialWithTargets: async (input: UpsertInput) => {
    const op: PropagationOp = input.op;
    const track: PropagationTrack = input.track;
    const plain: string | null = input.secretPlain;
    const ips: string[] | undefined = input.allowedIps;
    const exp: number | null | undefined = input.expiresAt;
    void [op, track, plain, ips, exp, input.targets.length];
  },
  rotateCredentialSecret: async (input: RotateInput) => void input.secretPlain.length,
  markTargetSent: async (input: TargetSentInput) => void (input.sentAt + input.attemptCount),
  markTargetSuccess: async (input: TargetSuccessInput) => void input.appliedAt,
  markTargetError: async (input: TargetErrorInput) => void input.reason.length,
  markCredentialFullyPropagated: async (input: FullyPropagatedInput) => {
    const s: "success" | "partial" | "error" = input.finalStatus;
    void [s, input.at];
  },
  fetchPendingPropagations: async () => rows,
  fetchSourcePropagationSecret: async (senderAmqpQueue: string) => (senderAmqpQueue === "x" ? "secret" : null),
};

const logger: Logger = { info: console.log, warn: console.warn, error: (...args: unknown[]) => console.error(...args) };

async function main(): Promise<void> {
  const options: PropagatorOptions = {
    amqpHost: "rabbitmq",
    amqpPort: 5672,
    amqpUser: "guest",
    amqpPassword: "guest",
    amqpProtocol: "amqp",
    amqpVhost: "hmac-credentials",
    amqpQueue: "mgmt-nest",
    propagationSecret: "secret-of-mgmt-nest",
    redis: redisClient,
    hmacHttpAuth: httpAuth,
    hmacMessageAuth: messageAuth,
    management,
    logger,
  };
  const propagator: Propagator = await createPropagator(options);
  const ensureInput: EnsureInput = { clientId: "a", secret: "plain", targets: ["c-nest"], allowedIps: ["10.0.0.0/8"], expiresAt: null };
  const created: { clientId: string; op: "credential.create" | "credential.update" } = await propagator.ensure(ensureInput);
  const rotateInput: RotateInputUsage = { clientId: created.clientId, secret: "plain-2", track: "http" };
  const rotated: { clientId: string } = await propagator.rotate(rotateInput);
  const revokeInput: RevokeInput = { clientId: rotated.clientId, targets: ["c-nest"] };
  await propagator.revoke(revokeInput);
  const summary: SyncSummary = await propagator.sync();
  void (summary.propagationsRead + summary.targetsPublished + summary.targetsRetrying + summary.durationMs);
  await propagator.close();

  // receive-only: no management, the message track only
  const receiver = await createPropagator({ ...options, management: undefined, hmacHttpAuth: undefined, logger: undefined });
  await receiver.close();
  // authcore extension: signed events.
  const strict = await createPropagator({ ...options, signEvents: true, requireSignedEvents: true, omitSecretFromSignedEvents: false });
  await strict.close();
  // @ts-expect-error the signing options are booleans
  await createPropagator({ ...options, signEvents: "yes" });

  const queue: string = buildQueueName("c-nest");
  const vhost: "hmac-credentials" = DEFAULT_AMQP_VHOST;
  void [queue, vhost];

  try {
    await propagator.sync();
  } catch (e) {
    if (e instanceof HmacPropagationError) {
      const code: HmacPropagationErrorCode = e.code;
      const cause: unknown = e.cause;
      void [code, cause, e.message, e.name];
    }
  }
  const err = new HmacPropagationError("INTERNAL_ERROR", "broker disconnected", new Error("x"));
  void err;
  void new HmacPropagationError("UNKNOWN_CLIENT");

  // wire shapes
  const apply: ApplyEvent = {
    eventId: "00000000-0000-4000-8000-000000000001",
    ts: 1781000123456,
    propagationSecret: "secret-of-target-B",
    senderAmqpQueue: "x-authority-hmac",
    op: "credential.create",
    track: "http",
    clientId: "client_partner_a",
    payload: { secretHash: "deadbeef", allowedIps: ["10.0.0.0/8"], expiresAt: null },
  };
  const result: AckResult = "applied";
  const ack: AckEvent = {
    eventId: "00000000-0000-4000-8000-000000000099",
    ts: 1781000125000,
    propagationSecret: "secret-of-sender-A",
    senderAmqpQueue: "x-ged-extract-mistral",
    op: "credential.ack",
    ackEventId: apply.eventId,
    ackResult: result,
    ackReason: null,
  };
  const events: AnyEvent[] = [apply, ack];
  void events;
}
void main;

// ---- misuse

// @ts-expect-error amqpPort is a number
const badPort: PropagatorOptions = { amqpHost: "h", amqpPort: "5672", amqpUser: "u", amqpPassword: "p", amqpProtocol: "amqp", amqpQueue: "q", propagationSecret: "s", redis: redisClient };
// @ts-expect-error only amqp / amqps
const badProtocol: PropagatorOptions = { amqpHost: "h", amqpPort: 1, amqpUser: "u", amqpPassword: "p", amqpProtocol: "http", amqpQueue: "q", propagationSecret: "s", redis: redisClient };
// @ts-expect-error the vhost type only allows the default literal
const badVhost: PropagatorOptions = { amqpHost: "h", amqpPort: 1, amqpUser: "u", amqpPassword: "p", amqpProtocol: "amqp", amqpVhost: "/", amqpQueue: "q", propagationSecret: "s", redis: redisClient };
// @ts-expect-error propagationSecret is required
const noSecret: PropagatorOptions = { amqpHost: "h", amqpPort: 1, amqpUser: "u", amqpPassword: "p", amqpProtocol: "amqp", amqpQueue: "q", redis: redisClient };
// @ts-expect-error a redis client needs the PropagationRedisClient methods
const badRedis: PropagatorOptions = { amqpHost: "h", amqpPort: 1, amqpUser: "u", amqpPassword: "p", amqpProtocol: "amqp", amqpQueue: "q", propagationSecret: "s", redis: { hGet: async () => null } };
// @ts-expect-error an auth instance needs clients
const badAuth: PropagatorOptions = { amqpHost: "h", amqpPort: 1, amqpUser: "u", amqpPassword: "p", amqpProtocol: "amqp", amqpQueue: "q", propagationSecret: "s", redis: redisClient, hmacHttpAuth: { secretToken: "x" } };
// @ts-expect-error not one of the 4 codes
void new HmacPropagationError("TRANSPORT_ERROR");
// @ts-expect-error targets is required
const noTargets: EnsureInput = { clientId: "a", secret: "s" };
// @ts-expect-error track is http or message
const badTrack: RotateInputUsage = { clientId: "a", secret: "s", track: "sms" };
// @ts-expect-error the callbacks return Promises
const syncCallbacks: PropagatorManagement = { ...management, markTargetSent: (input: TargetSentInput) => void input };
// @ts-expect-error the summary has no such field
void ((s: SyncSummary) => s.targetsFailed);
// @ts-expect-error buildQueueName takes a string
buildQueueName(42);
// @ts-expect-error the propagator has exactly close/ensure/rotate/revoke/sync
void ((p: Propagator) => p.publish);
// @ts-expect-error DEFAULT_AMQP_VHOST is a constant
DEFAULT_AMQP_VHOST = "x";
void (null as unknown as PropagationAckOp | PropagationHmacAuth);
void [badPort, badProtocol, badVhost, noSecret, badRedis, badAuth, noTargets, badTrack, syncCallbacks];
