// Request signing and verification per call, our addon vs the same wire written
// with node:crypto, for a 200-byte and a 64 KiB body, plus raw SHA-256 throughput of
// 64 KiB for reference. Run with a release addon (bench/node/run.sh sets
// NAPI_RS_NATIVE_LIBRARY_PATH).
import { createRequire } from 'node:module'
import { createHash } from 'node:crypto'
import * as ref from './reference.mjs'
import { perCall, table, writeResults } from './common.mjs'

const require = createRequire(import.meta.url)
const native = require('@authcore/native')
const core = await import('@authcore/node-hmac-auth-core')

const secretHash = ref.hashClientSecret('secret_a')
const record = JSON.stringify({ secretHash, createdAt: 1, updatedAt: 1, expiresAt: null, allowedIps: [] })
const now = 1_700_000_000_000
const path = '/api/v1/orders/42?expand=items&limit=10'

const rows = []
const results = {}
for (const [label, size] of [['200 B', 200], ['64 KiB', 64 * 1024]]) {
  const text = 'x'.repeat(size - 10) + '{"k":"é"}'
  const bodyStr = text.slice(0, size)
  const bodyBuf = Buffer.from(bodyStr)
  const input = { method: 'POST', path, timestamp: now, nonce: 'nonce-0001', body: bodyStr, secret: secretHash }
  const sig = ref.signRequest(input)
  if (native.signRequest(input) !== sig || core.signRequest(input) !== sig) throw new Error('signatures differ')
  const headers = { 'x-client-id': 'app_a', 'x-signature': sig, 'x-timestamp': String(now), 'x-nonce': 'nonce-0001' }

  const r = {
    'sign node:crypto': perCall(() => ref.signRequest(input)),
    'sign addon (native)': perCall(() => native.signRequest(input)),
    'sign drop-in': perCall(() => core.signRequest(input)),
    'sign node:crypto (Buffer body)': perCall(() => ref.signRequest({ ...input, body: bodyBuf })),
    'sign addon (Buffer body)': perCall(() => native.signRequest({ ...input, body: bodyBuf })),
    'verify node:crypto (string body)': perCall(() => ref.verifyWithRecord({ method: 'POST', path, headers, rawBody: bodyStr, now, record })),
    'verify node:crypto (Buffer body)': perCall(() => ref.verifyWithRecord({ method: 'POST', path, headers, rawBody: bodyBuf, now, record })),
    'verify addon (string body)': perCall(() =>
      native.verifyRecordFast('POST', path, 'app_a', sig, String(now), 'nonce-0001', bodyStr, now, 300000, undefined, record, undefined, false),
    ),
    'verify addon (Buffer body)': perCall(() =>
      native.verifyRecordFast('POST', path, 'app_a', sig, String(now), 'nonce-0001', bodyBuf, now, 300000, undefined, record, undefined, false),
    ),
    'verify addon, options-object API (Buffer body)': perCall(() =>
      native.verifyWithRecord({ method: 'POST', path, clientId: 'app_a', signature: sig, timestamp: String(now), nonce: 'nonce-0001', body: bodyBuf, now, record }),
    ),
  }
  if (!native.verifyWithRecord({ method: 'POST', path, clientId: 'app_a', signature: sig, timestamp: String(now), nonce: 'nonce-0001', body: bodyBuf, now, record }).ok) throw new Error('verify failed')
  if (!native.verifyRecordFast('POST', path, 'app_a', sig, String(now), 'nonce-0001', bodyStr, now, 300000, undefined, record, undefined, false).ok) throw new Error('verify failed')
  results[label] = r
  for (const [name, ns] of Object.entries(r)) rows.push({ body: label, op: name, 'ns/call': ns.toFixed(0), 'calls/s': Math.round(1e9 / ns).toLocaleString('en-US') })
  const pairs = [
    ['sign', 'sign node:crypto', 'sign addon (native)'],
    ['sign (Buffer)', 'sign node:crypto (Buffer body)', 'sign addon (Buffer body)'],
    ['verify (string)', 'verify node:crypto (string body)', 'verify addon (string body)'],
    ['verify (Buffer)', 'verify node:crypto (Buffer body)', 'verify addon (Buffer body)'],
  ]
  for (const [what, base, ours] of pairs) rows.push({ body: label, op: `speed-up ${what}`, 'ns/call': '', 'calls/s': `${(r[base] / r[ours]).toFixed(2)}x` })
}

const buf64 = Buffer.alloc(64 * 1024, 0x61)
const shaNode = perCall(() => createHash('sha256').update(buf64).digest())
const shaOurs = perCall(() => native.hashBody(buf64))
const mbps = (ns) => ((64 * 1024) / (ns / 1e9) / 1e6).toFixed(0)
rows.push({ body: '64 KiB', op: 'raw SHA-256 node:crypto (MB/s)', 'ns/call': shaNode.toFixed(0), 'calls/s': mbps(shaNode) })
rows.push({ body: '64 KiB', op: 'hashBody addon (MB/s)', 'ns/call': shaOurs.toFixed(0), 'calls/s': mbps(shaOurs) })
results.sha256_64KiB = { nodeCryptoNs: shaNode, addonHashBodyNs: shaOurs, nodeCryptoMBps: Number(mbps(shaNode)), addonMBps: Number(mbps(shaOurs)) }
const v64 = results['64 KiB']['verify addon (Buffer body)']
rows.push({ body: '64 KiB', op: 'verify addon (Buffer) vs raw SHA-256', 'ns/call': '', 'calls/s': `${((v64 / shaNode - 1) * 100).toFixed(1)}% slower` })
const s64 = results['64 KiB']['sign addon (Buffer body)']
rows.push({ body: '64 KiB', op: 'sign addon (Buffer) vs raw SHA-256', 'ns/call': '', 'calls/s': `${((s64 / shaNode - 1) * 100).toFixed(1)}% slower` })

table(rows, ['body', 'op', 'ns/call', 'calls/s'])
console.log(`results: ${writeResults('node-sign-verify', { results })}`)
