// Node signs with the drop-in's buildHttpSignedHeaders; prints the request as JSON.
// usage: node node_sign.mjs '{"method","url","body","clientId","secret"}'
import { buildHttpSignedHeaders } from "@authcore/node-hmac-auth-core";

const req = JSON.parse(process.argv[2]);
const headers = buildHttpSignedHeaders({ method: req.method, url: req.url, body: req.body, clientId: req.clientId, secret: req.secret });
console.log(JSON.stringify({ ...req, headers: Object.fromEntries(headers.entries()) }));
