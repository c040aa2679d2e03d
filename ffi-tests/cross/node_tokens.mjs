// The Auth Server TokenManager on a shared Redis, driven from the cross-language tests.
// usage: node node_tokens.mjs <redis-url> <key-prefix> <op> [token]
//   op = pair | refresh <token> | verify <token>
// prints the TokenPair / RefreshTokenVerificationResult as JSON, or {"error": code, "status": n}
import { native } from "@authcore/node-auth-core";

const [url, prefix, op, token] = process.argv.slice(2);
const keys = new native.KeySet();
keys.addHmac("cross-language-signing-secret!!!");
const m = new native.TokenManager(keys, { issuer: "https://auth.example.com", store: url, keyPrefix: prefix });
try {
  const out =
    op === "pair" ? await m.createTokenPairAsync({ userId: "u-cross", domainId: "d1", scope: "read" })
    : op === "refresh" ? await m.refreshAsync(token)
    : await m.verifyRefreshTokenAsync(token);
  console.log(JSON.stringify(out));
} catch (e) {
  if (typeof e.code !== "string") throw e;
  console.log(JSON.stringify({ error: e.code, status: e.status }));
}
