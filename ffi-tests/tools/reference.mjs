// An independent oracle for wire v1 of @naskot/node-hmac-auth-core 1.0.0, written from the
// spec (../shared/specs/naskot-hmac-core.md) on top of Node's own primitives: WHATWG URL,
// Number(), Number#toString, JSON.stringify, String#localeCompare (ICU, en-US),
// node:crypto and node:net isIP. It exists to compute expected values for edge-case
// vectors; it is not shipped and is not the implementation under test.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

export const sha256 = (s) => createHash("sha256").update(s).digest("hex");

export function hashClientSecret(secret, token) {
  return token != null && token !== ""
    ? createHmac("sha256", token).update(secret).digest("hex")
    : sha256(secret);
}

export function normalizePath(p) {
  const u = new URL(p, "http://localhost");
  return `${u.pathname}${u.search || ""}` || "/";
}

export function bodyText(input) {
  if (input.bodyHex != null) return Buffer.from(input.bodyHex, "hex").toString("utf8");
  return input.body ?? "";
}

export function buildSigningPayload({ method, path, timestamp, nonce }, body) {
  return `${method.toUpperCase()}\n${normalizePath(path)}\n${timestamp}\n${nonce}\n${sha256(body)}`;
}

export function signRequest(input) {
  return createHmac("sha256", input.secret).update(buildSigningPayload(input, bodyText(input))).digest("hex");
}

export function safeEqualHex(a, b) {
  if (a.length !== b.length) return false;
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  if (x.length !== y.length) return false;
  return timingSafeEqual(x, y);
}

function isPlain(v) {
  if (v == null || typeof v !== "object") return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function sortDeep(v) {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v instanceof Date) return v.toISOString();
  if (!isPlain(v)) return v;
  const out = {};
  for (const [k, child] of Object.entries(v).sort(([a], [b]) => a.localeCompare(b, "en-US"))) {
    out[k] = sortDeep(child);
  }
  return out;
}

export function toMessageString(m) {
  if (m == null) return "";
  if (typeof m === "string") return m;
  if (typeof m === "object") return JSON.stringify(sortDeep(m));
  return `${m}`;
}

export function signMessage({ clientId, message, secret, secretIsHashed, hashToken }) {
  const id = clientId.trim();
  if (!id) throw Object.assign(new Error("clientId cannot be empty"), { vectorCode: "INVALID_ARGUMENT" });
  if (!secret || !secret.trim()) throw Object.assign(new Error("secret cannot be empty"), { vectorCode: "INVALID_ARGUMENT" });
  const messageHash = sha256(toMessageString(message));
  const key = secretIsHashed ? secret : hashClientSecret(secret, hashToken);
  return { clientId: id, messageHash, signature: createHmac("sha256", key).update(`${id}\n${messageHash}`).digest("hex") };
}

// ---- IP allow-list, from spec §2.6 ----
export function normalizeIp(raw) {
  let v = raw.trim();
  if (!v) return null;
  if (v.includes(",")) v = v.split(",")[0].trim();
  if (v.startsWith("[") && v.includes("]")) v = v.slice(1, v.indexOf("]"));
  if (v.includes("%")) v = v.slice(0, v.indexOf("%"));
  if (v.startsWith("::ffff:") && isIP(v.slice(7)) === 4) return v.slice(7);
  if (isIP(v) === 0 && v.includes(":")) {
    const parts = v.split(":");
    if (parts[0] && parts[1] && isIP(parts[0]) === 4 && /^\d+$/.test(parts[1])) v = parts[0];
  }
  return isIP(v) === 0 ? null : v;
}

export function parseRule(raw) {
  const s = raw.trim();
  if (!s) return null;
  const parts = s.split("/");
  const network = normalizeIp(parts[0] ?? "");
  if (!network) return null;
  const family = isIP(network);
  const max = family === 4 ? 32 : 128;
  if (parts.length < 2) return { family, network, prefix: max, source: network };
  if (!/^\d+$/.test(parts[1])) return null;
  const prefix = Number(parts[1]);
  if (prefix > max) return null;
  return { family, network, prefix, source: `${network}/${prefix}` };
}

function toBig(ip, family) {
  if (family === 4) return ip.split(".").reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n);
  // Expand IPv6 with an optional IPv4 tail.
  let v = ip;
  if (v.includes(".")) {
    const i = v.lastIndexOf(":");
    const o = v.slice(i + 1).split(".").map(Number);
    v = `${v.slice(0, i)}:${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [l, r] = v.split("::");
  const left = l ? l.split(":") : [];
  const right = r !== undefined && r ? r.split(":") : [];
  const groups = r === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function ipAllowed(ip, rules) {
  if (rules.length === 0) return true;
  const c = normalizeIp(ip);
  if (!c) return false;
  for (const raw of rules) {
    const r = parseRule(raw);
    if (!r || isIP(c) !== r.family) continue;
    if (r.prefix === 0) return true;
    const bits = BigInt(r.family === 4 ? 32 : 128);
    const mask = ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(r.prefix))) - 1n);
    if ((toBig(c, r.family) & mask) === (toBig(r.network, r.family) & mask)) return true;
  }
  return false;
}

export function normalizeAllowedIps(list) {
  const out = [];
  for (const v of list) {
    if (typeof v !== "string") throw Object.assign(new Error("allowedIps entries must be strings"), { vectorCode: "INVALID_ARGUMENT" });
    const r = parseRule(v);
    if (!r) throw Object.assign(new Error(`Invalid allowedIps entry '${v}'. Expected IP or CIDR (example: 195.7.8.9 or 195.7.8.0/24).`), { vectorCode: "INVALID_ARGUMENT" });
    if (!out.includes(r.source)) out.push(r.source);
  }
  return out;
}

export function parseRecord(raw) {
  try {
    const p = JSON.parse(raw);
    if (p && typeof p === "object" && typeof p.secretHash === "string") {
      const fin = (x) => (typeof x === "number" && Number.isFinite(x) ? x : null);
      const ips = [];
      if (Array.isArray(p.allowedIps)) for (const v of p.allowedIps) {
        if (typeof v !== "string") continue;
        const r = parseRule(v);
        if (r && !ips.includes(r.source)) ips.push(r.source);
      }
      return { secretHash: p.secretHash, createdAt: fin(p.createdAt) ?? 0, updatedAt: fin(p.updatedAt) ?? 0, expiresAt: fin(p.expiresAt), allowedIps: ips };
    }
  } catch { /* legacy */ }
  return { secretHash: raw, createdAt: 0, updatedAt: 0, expiresAt: null, allowedIps: [] };
}

// ---- verifyHttpSignature without the nonce store (spec §2.7 steps 2-12) ----
class VErr extends Error {
  constructor(code, message, status = 401) { super(message); this.vectorCode = code; this.status = status; }
}

function getHeader(headers, name) {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

export function verifyWithRecord(input) {
  const h = input.headers;
  const clientId = getHeader(h, "x-client-id")?.trim();
  if (!clientId) throw new VErr("MISSING_CLIENT_ID", "Missing header x-client-id");
  const signature = getHeader(h, "x-signature");
  if (!signature) throw new VErr("MISSING_SIGNATURE", "Missing header x-signature");
  const tsRaw = getHeader(h, "x-timestamp");
  if (!tsRaw) throw new VErr("MISSING_TIMESTAMP", "Missing header x-timestamp");
  const nonce = getHeader(h, "x-nonce");
  if (!nonce) throw new VErr("MISSING_NONCE", "Missing header x-nonce");
  const timestamp = Number(tsRaw);
  if (!Number.isFinite(timestamp)) throw new VErr("INVALID_TIMESTAMP", "x-timestamp must be a number");
  const maxSkewMs = input.maxSkewMs ?? 300000;
  if (Math.abs(input.now - timestamp) > maxSkewMs) throw new VErr("TIMESTAMP_SKEW", `Request timestamp skew is too large (> ${maxSkewMs}ms)`);
  if (input.record == null || input.record === "") throw new VErr("UNKNOWN_CLIENT", "Unknown client id");
  const rec = parseRecord(input.record);
  if (rec.expiresAt != null && input.now > rec.expiresAt) throw new VErr("CLIENT_EXPIRED", "Client secret has expired");
  if (rec.allowedIps.length > 0) {
    let ip = null;
    for (const c of input.ipCandidates ?? []) { ip = normalizeIp(c); if (ip) break; }
    if (!ip) throw new VErr("MISSING_CLIENT_IP", "Client IP is required for this clientId allowlist", 403);
    if (!ipAllowed(ip, rec.allowedIps)) throw new VErr("CLIENT_IP_NOT_ALLOWED", `Client IP '${ip}' is not allowed for clientId '${clientId}'`, 403);
  }
  let path;
  try { path = normalizePath(input.path); } catch { throw new VErr("INVALID_INPUT", "Invalid URL", 500); }
  const expected = createHmac("sha256", rec.secretHash)
    .update(`${input.method.toUpperCase()}\n${path}\n${timestamp}\n${nonce}\n${sha256(bodyText(input))}`).digest("hex");
  if (!safeEqualHex(expected, signature)) throw new VErr("BAD_SIGNATURE", "Invalid HMAC signature");
  return { clientId, timestamp, nonce, signature };
}
