// An Express server protected by the drop-in's middleware on a shared Redis (URL path).
// usage: node node_server.mjs <redisUrl> <namespace>; prints "PORT <n>" when listening.
import express from "express";
import { captureRawBody, initializeHmacHttpAuth } from "@authcore/node-hmac-auth-core";

const [redisUrl, namespace] = process.argv.slice(2);
const auth = initializeHmacHttpAuth({ redis: redisUrl, namespace });
const app = express();
app.use(express.json({ verify: captureRawBody }));
app.use("/secure", auth.createHttpMiddleware());
app.post("/secure/echo", (req, res) => res.json({ clientId: req.hmacAuth.clientId, body: req.body }));
const server = app.listen(0, "127.0.0.1", () => console.log(`PORT ${server.address().port}`));
process.stdin.on("end", () => server.close(() => process.exit(0)));
process.stdin.resume();
