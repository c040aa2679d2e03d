// Differential oracle for the message track's canonical JSON (`toMessageString`).
//
//   node ffi-tests/tools/gen-canonical-oracle.mjs [SEED] > ffi-tests/vectors/canonical-json-oracle.json
//
// Draws random JSON texts (seeded, reproducible) built to stress the canonicalisation:
// keys that collate close together under ICU (case, accents in NFC and NFD, ignorables,
// punctuation, digits, integer-like keys and near misses, `__proto__`, duplicates, CJK,
// astral characters, PUA and the unassigned code points around the surrogate block, lone
// surrogates), numbers in every JSON spelling, strings with escapes and controls, and
// non-plain objects. Each text is `JSON.parse`d by Node and canonicalised by the original
// algorithm below (spec §2.3: `JSON.stringify(sortObjectKeysDeep(message))`, keys sorted
// with ICU `localeCompare` under en-US). `core/tests/it/canonical_oracle.rs` replays every
// case through the Rust core and compares the text and its SHA-256 (what is signed).
//
// A non-plain object is written `{"$nonplain": {...}}`: Node builds a class instance with
// those own properties (in that order); the Rust side parses with the same marker.
import { createHash } from "node:crypto";

const seed = Number(process.argv[2] ?? 20261206) >>> 0;
const CASES = Number(process.argv[3] ?? 400);
const MARKER = "$nonplain";

// mulberry32: small, seeded, good enough to spread cases.
let state = seed;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rand() * n);
const pick = (xs) => xs[int(xs.length)];

// ---- the original algorithm (spec §2.3) ----
function sortObjectKeysDeep(value) {
  if (Array.isArray(value)) return value.map(sortObjectKeysDeep);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    const sorted = {};
    for (const [k, v] of Object.entries(value).sort(([a], [b]) => a.localeCompare(b))) {
      sorted[k] = sortObjectKeysDeep(v);
    }
    return sorted;
  }
  return value;
}
function toMessageString(message) {
  if (message === null || message === undefined) return "";
  if (typeof message === "string") return message;
  if (typeof message === "number" || typeof message === "boolean" || typeof message === "bigint") {
    return `${message}`;
  }
  return JSON.stringify(sortObjectKeysDeep(message));
}

// ---- random JSON text ----
const keyAtoms = [
  "a", "A", "b", "B", "z", "Z", "_", "-", "_x", "-x", "1x", "x1", "a10", "a2", "ä", "a\u0308",
  "å", "Å", "ö", "é", "e\u0301", "\u00ad", "a\u00adb", "ab", "\u200b", "\u200d", "ß", "ss",
  "ı", "İ", "i", "I", "æ", "ae", "Ω", "ω", "я", "中", "文", "日本", "한", "\u1100\u1161",
  "😀", "\ud83d\ude00", "𐀀", "\ud7fb", "\ud7fc", "\ud7ff", "\ue000", "\uf8ff", "\uf900",
  "\ufffd", "\uffef", "\ufff0", "\u{40000}", "\u{10ffff}", " ", "\t", "\n", "\"", "\\", "/",
  "$", "@", "~", "0", "1", "2", "9", "10", "01", "-1", "1.5", "4294967294", "4294967295",
  "__proto__", "constructor", "toString", "",
];
// Adjacent high + low escapes pair up: \ud83c with any low one names an assigned emoji.
// (\ud83d\udfff would be U+1F7FF, unassigned in Node 20's ICU 78 but a symbol in ICU4X's
// newer data: a Unicode-version difference, see docs/compat.md, not what this oracle tests.)
const loneSurrogates = ["\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\ud83c", "\\ude00", "\\uda12"];

function jsonEscape(s) {
  return JSON.stringify(s).slice(1, -1);
}

function randomKeyText() {
  const r = rand();
  if (r < 0.06) return String(int(20)); // integer-like
  if (r < 0.09) return pick(["007", "1e3", "4294967295", "4294967294", "-0", "+1"]);
  const parts = [];
  const n = 1 + int(3);
  for (let i = 0; i < n; i++) {
    if (rand() < 0.12) parts.push(pick(loneSurrogates));
    else parts.push(jsonEscape(pick(keyAtoms)));
  }
  return parts.join("");
}

function randomStringText() {
  const r = rand();
  if (r < 0.5) return randomKeyText();
  const pieces = [];
  const n = int(6);
  for (let i = 0; i < n; i++) {
    const c = rand();
    if (c < 0.2) pieces.push(pick(loneSurrogates));
    else if (c < 0.3) pieces.push(`\\u${int(0x20).toString(16).padStart(4, "0")}`);
    else if (c < 0.4) pieces.push(pick(["\\u2028", "\\u2029", "\\/", "\\b", "\\f", "\\r", "\\t", "\\\"", "\\\\"]));
    else if (c < 0.5) pieces.push(`\\u${int(0x10000).toString(16).padStart(4, "0")}`);
    else pieces.push(jsonEscape(pick(keyAtoms)));
  }
  return pieces.join("");
}

function randomNumberText() {
  const r = rand();
  if (r < 0.2) return String(int(1000) - 500);
  if (r < 0.35) return pick(["0", "-0", "0.0", "-0.0", "1e21", "1e-7", "1E+2", "123456789012345678901234567890",
    "0.1", "1.7976931348623157e308", "5e-324", "2e-324", "1e400", "-1e400", "9007199254740993", "1.5e+21", "0.000001"]);
  if (r < 0.7) {
    const x = (rand() - 0.5) * 10 ** (int(40) - 20);
    return JSON.stringify(x);
  }
  const mant = `${int(10)}${rand() < 0.5 ? "." + String(int(100000)) : ""}`;
  return `${rand() < 0.3 ? "-" : ""}${mant}${pick(["e", "E"])}${pick(["", "+", "-"])}${int(330)}`;
}

function randomValueText(depth) {
  const r = rand();
  if (depth > 4 || r < 0.3) {
    const s = rand();
    if (s < 0.4) return `"${randomStringText()}"`;
    if (s < 0.75) return randomNumberText();
    return pick(["true", "false", "null"]);
  }
  if (r < 0.5) {
    const n = int(5);
    const items = [];
    for (let i = 0; i < n; i++) items.push(randomValueText(depth + 1));
    return `[${items.join(",")}]`;
  }
  const n = int(8);
  const entries = [];
  const used = [];
  for (let i = 0; i < n; i++) {
    const k = used.length > 0 && rand() < 0.08 ? pick(used) : randomKeyText(); // duplicates
    used.push(k);
    entries.push(`"${k}":${randomValueText(depth + 1)}`);
  }
  const obj = `{${entries.join(",")}}`;
  return rand() < 0.1 ? `{"${MARKER}":${obj}}` : obj;
}

// JSON.parse plus the marker: `{"$nonplain": {...}}` becomes a class instance holding the
// same own properties in the same order (descendants stay as parsed, like the original
// leaves a non-plain object untouched).
class NonPlain {}
function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === MARKER) {
      const inner = v[MARKER];
      if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return revive(inner);
      const o = new NonPlain();
      for (const k of Object.keys(inner)) {
        Object.defineProperty(o, k, { value: revive(inner[k]), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
    const out = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(out, k, { value: revive(v[k]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}

const cases = [];
for (let i = 0; i < CASES; i++) {
  const text = rand() < 0.92 ? randomValueText(0) : (rand() < 0.5 ? `"${randomStringText()}"` : randomNumberText());
  const value = revive(JSON.parse(text));
  const canonical = toMessageString(value);
  const bytes = Buffer.from(canonical, "utf8"); // lone surrogates become U+FFFD, as hashing sees them
  cases.push({
    id: `oracle-${i}`,
    json: text,
    canonical: bytes.toString("utf8"),
    sha256: createHash("sha256").update(bytes).digest("hex"),
  });
}

const out = {
  description:
    "Canonical JSON of the message track (toMessageString) on random JSON texts: what Node computes with the original algorithm (sortObjectKeysDeep + JSON.stringify, localeCompare under en-US).",
  source: `ffi-tests/tools/gen-canonical-oracle.mjs ${seed} ${CASES} on Node ${process.version}, ICU ${process.versions.icu}, locale ${Intl.Collator().resolvedOptions().locale}`,
  marker: MARKER,
  cases,
};
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
