// Compile-only test of the .d.ts: code written against @naskot/node-hmac-auth-core 1.0.0's
// types must type-check unchanged against ours, and misuse must still be rejected
// (each `@ts-expect-error` fails the build if the line stops being an error).
import {
  buildHttpSignedHeaders,
  captureRawBody,
  createExpressHttpHmacMiddleware,
  createHmacRuntime,
  createHttpSignedFetchClient,
  hashBody,
  hashClientSecret,
  HmacAuthError,
  initializeHmacHttpAuth,
  initializeHmacMessageAuth,
  signedHttpFetch,
  signMessage,
  signRequest,
  verifyHttpSignature,
  verifyMessage,
  type BadHttpSignatureEvent,
  type HmacClientCredentialWithSecret,
  type HmacCredentialRevertResult,
  type RedisLikeClient,
  type SignedMessage,
  type VerifiedHttpRequest,
} from "@authcore/node-hmac-auth-core";

declare const redis: RedisLikeClient;

async function app(): Promise<void> {
  const auth = initializeHmacHttpAuth({
    redis,
    namespace: "tenant",
    maxSkewMs: 5000,
    secretToken: process.env.HMAC_SECRET_TOKEN,
    onBadSignature: (e: BadHttpSignatureEvent) => void e.expectedSignature.length,
  });
  const created: HmacClientCredentialWithSecret = await auth.clients.create({ clientId: "a", expiresAt: new Date(), allowedIps: ["10.0.0.0/8"] });
  const secret: string = created.secret;
  await auth.clients.setSecret("a", secret, null, ["1.2.3.4"]);
  const reverted: HmacCredentialRevertResult = await auth.clients.revert("a");
  const restored: string | undefined = reverted.restoredSecretHash;
  void restored;
  const ids: string[] = await auth.clients.listClientIds();
  void ids;

  const v: VerifiedHttpRequest = await auth.verifyHttpSignature({ method: "GET", path: "/x", headers: {}, now: 1 });
  const ts: number = v.timestamp;
  void ts;
  await verifyHttpSignature({ method: "GET", path: "/x", headers: { "x-nonce": ["n"] }, redis, rawBody: Buffer.from("") });

  const mw = createExpressHttpHmacMiddleware({ redis, attachAuthTo: "hmacAuth" });
  void mw;
  void auth.createHttpMiddleware({ maxSkewMs: 1 });
  void captureRawBody;

  const headers: Headers = buildHttpSignedHeaders({ method: "POST", url: "https://x/y", body: { a: 1 }, clientId: "a", secret: "s" });
  void headers;
  const res: Response = await signedHttpFetch("https://x/y", { clientId: "a", secret: "s", method: "POST", body: "x" });
  void res;
  const client = createHttpSignedFetchClient({ clientId: "a", secret: "s" });
  await client("https://x/y", { method: "GET" });

  const runtime = createHmacRuntime(auth);
  void runtime.hmacHttpMiddleware("a", "b");

  const msgAuth = initializeHmacMessageAuth({ redis });
  const signed: SignedMessage = await msgAuth.signMessage({ clientId: "a", message: { z: 1 } });
  await msgAuth.verifyMessage({ clientId: "a", message: { z: 1 }, signature: signed.signature });
  const ok: boolean = verifyMessage({ clientId: "a", message: [1], secret: "s", signature: signMessage({ clientId: "a", message: [1], secret: "s" }).signature });
  void ok;

  const sig: string = signRequest({ method: "GET", path: "/", timestamp: 1, nonce: "n", body: "", secret: hashClientSecret("s") });
  void sig;
  void hashBody("");

  try {
    await auth.verifyHttpSignature({ method: "GET", path: "/", headers: {} });
  } catch (e) {
    if (e instanceof HmacAuthError) {
      const status: number = e.status;
      const code: string = e.code;
      void status, code;
    }
  }

  // @ts-expect-error: signRequest needs a secret
  signRequest({ method: "GET", path: "/", timestamp: 1, nonce: "n", body: "" });
  // @ts-expect-error: timestamps are numbers
  signRequest({ method: "GET", path: "/", timestamp: "1", nonce: "n", body: "", secret: "s" });
  // @ts-expect-error: the instance verifier does not take a redis client
  await auth.verifyHttpSignature({ method: "GET", path: "/", headers: {}, redis });
  // @ts-expect-error: there is no `rotate` on clients
  await auth.clients.rotate("a");
}

void app;
