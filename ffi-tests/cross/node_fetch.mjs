// Node's signed fetch calls a server; creates its credential first through the Node
// clients API on the shared Redis, so the record is written by Node and read by Python.
// usage: node node_fetch.mjs <redisUrl> <namespace> <url> <clientId> <secret>
// prints {"status": n, "body": ...} for the first call and the replayed call.
import { createHttpSignedFetchClient, initializeHmacHttpAuth } from "@authcore/node-hmac-auth-core";

const [redisUrl, namespace, url, clientId, secret] = process.argv.slice(2);
const auth = initializeHmacHttpAuth({ redis: redisUrl, namespace });
await auth.clients.setSecret(clientId, secret);
let sent;
const recordingFetch = async (u, init) => { sent = init; return fetch(u, init); };
const client = createHttpSignedFetchClient({ clientId, secret, fetchImpl: recordingFetch });
const first = await client(url, { method: "POST", body: { hello: "from node", n: 1 } });
const firstBody = await first.json();
// Replay the exact same signed request: the shared Redis knows the nonce.
const replay = await fetch(url, { method: "POST", headers: sent.headers, body: sent.body });
console.log(JSON.stringify({ first: { status: first.status, body: firstBody }, replay: { status: replay.status, body: await replay.json() } }));
process.exit(0);
