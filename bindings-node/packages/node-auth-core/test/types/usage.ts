// Compile-only test of the .d.ts of @authcore/node-auth-core against awesome-node-auth's
// service API; each `@ts-expect-error` fails the build if the misuse stops being an error.
import { ApiKeyService, ApiKeyStrategy, AuthError, PasswordService, TokenService, TotpStrategy, native, type AuthConfig } from "@authcore/node-auth-core";

async function services(config: AuthConfig): Promise<void> {
  const passwords = new PasswordService();
  const hash: string = await passwords.hash("pw", 12);
  const same: boolean = await passwords.compare("pw", hash);
  const upgraded = await passwords.verifyAndUpgrade("pw", null);
  void same, upgraded.valid;

  const tokens = new TokenService();
  const pair = tokens.generateTokenPair({ sub: "u1", email: "a@b.c", role: "user" }, config);
  const payload = tokens.verifyAccessToken(pair.accessToken, config);
  void payload.sub;
  const stored: string = tokens.hashRefreshToken(pair.refreshToken);
  const matches: boolean = tokens.compareRefreshToken(pair.refreshToken, stored);
  void matches;

  const totp = new TotpStrategy({ window: 0 });
  const { secret, otpauthUrl } = totp.generateSecret("a@b.c", "app");
  const valid: boolean = await totp.verify("123456", secret);
  void otpauthUrl, valid;

  const keys = new ApiKeyService(10);
  void keys.extractPrefix("ak_0123456789abcdef");
  void ApiKeyStrategy;

  const err = new AuthError("Invalid or expired access token", "INVALID_ACCESS_TOKEN", 401);
  const code: string = err.code;
  void code;

  // @ts-expect-error: hash is asynchronous
  const notAString: string = passwords.hash("pw");
  void notAString;
  // @ts-expect-error: verifyAccessToken needs the config
  tokens.verifyAccessToken(pair.accessToken);
}

void services;

// AuthTools, written as against @nik2208/node-auth.
import {
  AuthEventBus,
  AuthEventNames,
  AuthTools,
  SseManager,
  WebhookSender,
  createToolsRouter,
  buildOpenApiSpec,
  type AuthEventName,
  type ITelemetryStore,
  type IWebhookStore,
  type ISseDistributor,
} from "@authcore/node-auth-core";

export async function tools(): Promise<void> {
  const bus = new AuthEventBus();
  bus.onEvent("*", (p) => void p.event).onEvent(AuthEventNames.USER_CREATED, (p) => void p.userId);
  const store: ITelemetryStore = { save: async () => {} };
  const hooks: IWebhookStore = { findByEvent: async () => [] };
  const distributor: ISseDistributor = { publish: async () => {}, subscribe: async () => {} };
  const t = new AuthTools(bus, {
    telemetryStore: store,
    webhookStore: hooks,
    sse: true,
    sseOptions: { heartbeatIntervalMs: 15_000, distributor },
    webhookVersion: "1",
  });
  await t.track(AuthEventNames.AUTH_LOGIN_SUCCESS, { method: "local" }, { userId: "u1", ip: "1.2.3.4" });
  await t.notify("user:u1", { message: "hi" }, { type: "security-alert" });
  const n: AuthEventName = "identity.user.created";
  const m: SseManager | null = t.sseManager;
  const sig: string = new WebhookSender().sign("{}", "s");
  void new WebhookSender({ lookup: (_h, _o, cb) => cb(null, [{ address: "93.184.216.34", family: 4 }]), timeoutMs: 5000 });
  void new WebhookSender({ fetch: (url, init) => fetch(url, init) });
  void createToolsRouter(t, { swagger: "auto" });
  void buildOpenApiSpec({}, "/tools").openapi;
  void n, m, sig;
  // @ts-expect-error: track is asynchronous
  const sync: string = t.track("x");
  void sync;
  // @ts-expect-error: not one of the 25 names
  const bad: AuthEventName = "identity.nope";
  void bad;
}

// `native`: the core's names, and the deprecated ones as the same class and functions.
function nativeNames(): void {
  const keys = new native.KeySet();
  const old: InstanceType<typeof native.KeySet> = new native.JwtKeySet();
  keys.addHmac("secret");
  const token: string = old.sign('{"sub":"u1"}');
  const phc: string = native.passwordHashArgon2idSync("pw", { memoryCost: 1024, timeCost: 1 });
  const same: string = native.argon2HashSync("pw");
  const ok: boolean = native.passwordVerifyArgon2Sync("pw", phc) && native.argon2VerifySync("pw", same);
  native.metricsSetEnabled(true);
  native.setMetricsEnabled(true);
  // @ts-expect-error a boolean switch
  native.metricsSetEnabled("yes");
  void token, ok;
}
void nativeNames;
