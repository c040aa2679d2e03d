// The Redis stores through the public Node APIs on a real Redis Cluster of 3 masters, private
// to this file (scripts/redis-cluster.sh: free ports, a temporary directory; the nodes go
// away when this process closes the helper's stdin, exits, fails or is killed):
// - the HMAC client store and nonces (@authcore/node-hmac-auth-core, `redis:
//   "redis+cluster://…"`): sign → verify → the replay refused, an unknown client refused;
// - the refresh-token store (TokenManager) and the authorization-code store
//   (AuthorizationServer) of @authcore/native, `store: "redis+cluster://…"`: rotation and
//   reuse detection shared by two managers, codes single-use across two servers;
// - the propagation state (@authcore/node-hmac-auth-core-propagation, `redis:` a cluster
//   URL) of two peers on the in-process mesh, their HMAC stores on the cluster too: every
//   credential applied and ACKed, the hash-tagged layout, and the credential verifies at
//   the receiving peer;
// - the event distributor (createRedisDistributor of @authcore/node-auth-core): two
//   distributors subscribed through different seed nodes both receive what either publishes.
// Needs redis-server and redis-cli on the PATH (fails, never skips, without them).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { initializeHmacHttpAuth, buildHttpSignedHeaders } from '@authcore/node-hmac-auth-core'
import { createPropagator } from '@authcore/node-hmac-auth-core-propagation'
import { createRedisDistributor } from '@authcore/node-auth-core'
import { MemoryManagement, waitFor } from '../packages/node-hmac-auth-core-propagation/test/helpers.mjs'

const native = createRequire(import.meta.url)('@authcore/native')
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const run = randomBytes(4).toString('hex')

let helper
let url
let ports

/** Starts the private cluster; resolves with its URL (the helper's first line). */
function startCluster() {
  helper = spawn('bash', [path.join(ROOT, 'scripts/redis-cluster.sh')], { stdio: ['pipe', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error('the cluster did not start within 60 s')), 60_000)
    helper.stdout.on('data', (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0) {
        clearTimeout(timer)
        resolve(out.slice(0, nl).trim())
      }
    })
    helper.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`scripts/redis-cluster.sh exited with ${code} before printing a URL`))
    })
  })
}

/** `redis-cli -c` (follows redirections) from the first node. */
function cli(...args) {
  return execFileSync('redis-cli', ['-c', '-p', String(ports[0]), ...args], { encoding: 'utf8' }).trim()
}

const keyCounts = () => ports.map((p) => Number(execFileSync('redis-cli', ['-p', String(p), 'dbsize'], { encoding: 'utf8' })))

before(async () => {
  url = await startCluster()
  ports = url.replace('redis+cluster://', '').split(',').map((hp) => Number(hp.split(':')[1]))
  assert.equal(ports.length, 3)
})

after(async () => {
  if (!helper) return
  if (helper.exitCode === null && helper.signalCode === null) {
    const exited = new Promise((r) => helper.once('exit', r))
    helper.stdin.end()
    await exited
  }
  for (const p of ports ?? []) {
    let up = false
    try {
      up = execFileSync('redis-cli', ['-p', String(p), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim() === 'PONG'
    } catch {}
    assert.equal(up, false, `cluster node ${p} stopped`)
  }
})

test('HMAC clients and nonces on the cluster: sign, verify, the replay refused', async () => {
  const ns = `cluster-hmac-${run}`
  const auth = initializeHmacHttpAuth({ redis: url, namespace: ns })
  const other = initializeHmacHttpAuth({ redis: url, namespace: ns })
  for (let i = 0; i < 30; i++) await auth.clients.setSecret(`app_${i}`, `secret_${i}`)
  assert.equal(await other.clients.getSecretHash('app_0'), await auth.clients.getSecretHash('app_0'))
  const body = JSON.stringify({ order: 42 })
  const signed = []
  for (let i = 0; i < 30; i++) {
    const h = buildHttpSignedHeaders({ method: 'POST', url: '/pay', body, clientId: `app_${i}`, secret: `secret_${i}` })
    signed.push({ method: 'POST', path: '/pay', headers: Object.fromEntries(h.entries()), rawBody: body })
  }
  for (const [i, req] of signed.entries()) {
    // Verified by one instance, replayed at the other (the nonce is shared through the cluster).
    const v = await auth.verifyHttpSignature(req)
    assert.equal(v.clientId, `app_${i}`)
    await assert.rejects(other.verifyHttpSignature(req), (e) => e.code === 'REPLAYED_NONCE' && e.status === 401)
  }
  // 8 concurrent verifications of one fresh request: exactly one wins.
  const h = Object.fromEntries(buildHttpSignedHeaders({ method: 'GET', url: '/once', clientId: 'app_1', secret: 'secret_1' }).entries())
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, (_, i) => [auth, other][i % 2].verifyHttpSignature({ method: 'GET', path: '/once', headers: h, rawBody: '' })),
  )
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  const unknown = Object.fromEntries(buildHttpSignedHeaders({ method: 'GET', url: '/x', clientId: 'nobody', secret: 's' }).entries())
  await assert.rejects(auth.verifyHttpSignature({ method: 'GET', path: '/x', headers: unknown, rawBody: '' }), (e) => e.code === 'UNKNOWN_CLIENT')
  // The original's key layout on the cluster: one clients hash, one nonce key per request.
  assert.equal(cli('hlen', `${ns}:clients`), '30')
  const nonce = signed[0].headers['x-nonce']
  const ts = signed[0].headers['x-timestamp']
  assert.equal(cli('exists', `${ns}:nonce:app_0:${nonce}:${ts}`), '1')
  assert.ok(keyCounts().filter((n) => n > 0).length >= 2, `nonces spread over several masters: ${keyCounts()}`)
})

test('refresh tokens and authorization codes on the cluster: shared rotation, single-use codes', async () => {
  const keyPrefix = `cluster-tokens-${run}`
  const manager = () => {
    const ks = new native.KeySet()
    ks.addHmac('shared-signing-secret-of-32-bytes!')
    return new native.TokenManager(ks, { issuer: 'https://auth.example.com', store: url, keyPrefix })
  }
  const [a, b] = [manager(), manager()]
  const claims = { userId: 'cu1', domainId: 'd1', scope: 'read' }
  const first = await a.createTokenPairAsync(claims)
  assert.equal((await b.verifyRefreshTokenAsync(first.refreshToken)).valid, true)
  const second = await b.refreshAsync(first.refreshToken)
  assert.equal(second.familyId, first.familyId)
  await assert.rejects(a.refreshAsync(first.refreshToken), (e) => e.code === 'REFRESH_TOKEN_REUSED')
  assert.throws(() => b.refresh(second.refreshToken), (e) => e.code === 'REFRESH_TOKEN_REVOKED')
  // Several families of one user (records, family sets and the user set on different slots).
  const others = []
  for (let i = 0; i < 6; i++) others.push(a.createTokenPair(claims))
  for (const p of others) assert.equal(b.verifyRefreshToken(p.refreshToken).valid, true)
  assert.equal(await b.revokeUserAsync('cu1'), 6)
  for (const p of others) assert.equal(a.verifyRefreshToken(p.refreshToken).error, 'REFRESH_TOKEN_REVOKED')
  // Concurrent refreshes of one token from several managers: one winner.
  const pair = a.createTokenPair({ ...claims, userId: 'cu2' })
  const managers = Array.from({ length: 6 }, manager)
  const results = await Promise.allSettled(managers.map((m) => m.refreshAsync(pair.refreshToken)))
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)

  const VERIFIER = 'dBjftJeZ4CVP-mJ0kzjjxXkbjJvd7cuP2FV4JEx3ZRL'
  const opts = { store: url, keyPrefix }
  const [s1, s2] = [new native.AuthorizationServer(opts), new native.AuthorizationServer(opts)]
  const params = { clientId: 'c1', userId: 'u1', domainId: 'd1', redirectUri: 'https://app/cb', codeChallenge: native.pkceS256Challenge(VERIFIER), scope: 'read' }
  for (let i = 0; i < 5; i++) {
    const code = await s1.createCodeAsync(params)
    const ex = { code, clientId: 'c1', redirectUri: 'https://app/cb', codeVerifier: VERIFIER }
    assert.deepEqual({ ...(await s2.exchangeCodeAsync(ex)) }, { userId: 'u1', domainId: 'd1', scope: 'read', clientId: 'c1' })
    await assert.rejects(s1.exchangeCodeAsync(ex), (e) => e.code === 'AUTH_CODE_REUSED')
  }
  const once = await s1.createCodeAsync(params)
  const ex = { code: once, clientId: 'c1', redirectUri: 'https://app/cb', codeVerifier: VERIFIER }
  const raced = await Promise.allSettled([s1, s2, s1, s2].map((s) => s.exchangeCodeAsync(ex)))
  assert.equal(raced.filter((r) => r.status === 'fulfilled').length, 1)
})

test('propagation state on the cluster: two peers on the in-process mesh sync to completion', async () => {
  const N = 40
  const [an, bn] = [`ca-${run}`, `cb-${run}`]
  const dir = new MemoryManagement({ [an]: `secret-of-${an}`, [bn]: `secret-of-${bn}` })
  const authA = initializeHmacHttpAuth({ redis: url, namespace: `cluster-prop-a-${run}`, secretToken: 'pepper' })
  const authB = initializeHmacHttpAuth({ redis: url, namespace: `cluster-prop-b-${run}`, secretToken: 'pepper' })
  const common = { amqpProtocol: 'memory', amqpHost: `cluster-${run}`, amqpPort: 1, amqpUser: '-', amqpPassword: '-', redis: url }
  const a = await createPropagator({ ...common, amqpQueue: an, propagationSecret: `secret-of-${an}`, hmacHttpAuth: authA, management: dir })
  const b = await createPropagator({ ...common, amqpQueue: bn, propagationSecret: `secret-of-${bn}`, hmacHttpAuth: authB, management: dir })
  try {
    for (let i = 0; i < N; i++) await a.ensure({ clientId: `cc-${run}-${i}`, secret: `plain-${i}-${'x'.repeat(24)}`, targets: [bn] })
    // One more towards a peer that never answers: its bookkeeping stays, in the tagged layout.
    const stuck = `stuck-${run}`
    await a.ensure({ clientId: stuck, secret: 'y'.repeat(32), targets: [`nobody-${run}`] })
    const s = await a.sync()
    assert.equal(s.targetsPublished, N + 1)
    await waitFor('every credential fully propagated', () => dir.fully.length === N, 30_000)
    for (let i = 0; i < N; i++) {
      const id = `cc-${run}-${i}`
      assert.equal(dir.statusOf(id, bn), 'success')
      assert.equal(await authB.clients.getSecretHash(id), await authA.clients.getSecretHash(id))
    }
    // The credential works at b: a request signed with the plain secret verifies there.
    const h = Object.fromEntries(buildHttpSignedHeaders({ method: 'GET', url: '/p', clientId: `cc-${run}-3`, secret: `plain-3-${'x'.repeat(24)}`, hashToken: 'pepper' }).entries())
    assert.equal((await authB.verifyHttpSignature({ method: 'GET', path: '/p', headers: h, rawBody: '' })).clientId, `cc-${run}-3`)
    // The cluster layout: a client's bookkeeping under a hash tag; nothing left for the done ones.
    assert.equal(cli('scard', `propagation:client-pending:{${stuck}}`), '1')
    assert.equal(cli('exists', `propagation:client-pending:${stuck}`), '0')
    assert.equal(cli('exists', `propagation:client-pending:{cc-${run}-0}`), '0')
    assert.equal(cli('exists', `propagation:last-seen:{http:cc-${run}-0}`), '1')
  } finally {
    await a.close()
    await b.close()
  }
})

test('event distributor on the cluster: subscribers through different seed nodes get every event', async () => {
  const channel = `authcore-cluster-${run}`
  const [p0, p1, p2] = ports
  const one = createRedisDistributor(`redis+cluster://127.0.0.1:${p0},127.0.0.1:${p1}`, { channel })
  const two = createRedisDistributor(`redis+cluster://127.0.0.1:${p2},127.0.0.1:${p0}`, { channel })
  const got = [[], []]
  await one.subscribe((topic, event) => got[0].push([topic, event.n]))
  await two.subscribe((topic, event) => got[1].push([topic, event.n]))
  for (let i = 0; i < 10; i++) await [one, two][i % 2].publish(`topic-${i % 3}`, { n: i })
  const want = Array.from({ length: 10 }, (_, i) => [`topic-${i % 3}`, i])
  await waitFor('both distributors got all 10 events', () => got[0].length >= 10 && got[1].length >= 10, 15_000)
  // Two publishers reach a subscriber over different nodes: no order between them.
  const sorted = (l) => [...l].sort((x, y) => x[1] - y[1])
  assert.deepEqual(sorted(got[0]), want)
  assert.deepEqual(sorted(got[1]), want)
  assert.equal(one.dropped + two.dropped, 0)
  await one.close()
  await two.close()
})
