// Compile-only test of the .d.ts of @authcore/node-auth-core against awesome-node-auth's
// service API; each `@ts-expect-error` fails the build if the misuse stops being an error.
import { ApiKeyService, ApiKeyStrategy, AuthError, PasswordService, TokenService, TotpStrategy, type AuthConfig } from "@authcore/node-auth-core";

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
