// Node verifies a request signed elsewhere with the drop-in's verifyHttpSignature on the
// embedded memory store. usage: node node_verify.mjs '<json from a signer>'
// prints {"ok": {...}} or {"error": code, "status": n}
import { initializeHmacHttpAuth, HmacAuthError } from "@authcore/node-hmac-auth-core";

const req = JSON.parse(process.argv[2]);
const auth = initializeHmacHttpAuth({ redis: "memory://" });
await auth.clients.setSecret(req.clientId, req.secret);
try {
  const v = await auth.verifyHttpSignature({ method: req.method, path: req.url, headers: req.headers, rawBody: req.body });
  console.log(JSON.stringify({ ok: v }));
} catch (e) {
  if (!(e instanceof HmacAuthError)) throw e;
  console.log(JSON.stringify({ error: e.code, status: e.status }));
}
