// Exiting without closing anything: a Node process that leaves long-lived native objects
// open (propagators on the in-process mesh and on RabbitMQ, realtime streams, the Redis
// stores, a TokenManager and an AuthorizationServer on Redis) exits with code 0, every
// time: no crash (no Rust thread calls into a torn-down environment) and no hang. An open
// propagator holds the event loop until close(), as the original's amqplib socket does, so
// its cases end with process.exit(0) while events and ACKs are still in flight; the other
// objects hold nothing, so those scripts simply end. A closed propagator lets the process
// end on its own. Each case runs RUNS times in its own process, a few at once, and must
// exit within TIMEOUT_MS. Needs Redis and RabbitMQ (fails, never skips, without them).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createClient } from 'redis'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const RUNS = Number(process.env.AUTHCORE_EXIT_RUNS ?? 20)
const PARALLEL = 4
const TIMEOUT_MS = 20_000
const REDIS_URL = 'redis://127.0.0.1:6379'
const HELPERS = pathToFileURL(
  path.join(ROOT, 'bindings-node/packages/node-hmac-auth-core-propagation/test/helpers.mjs'),
).href

const PRELUDE = `
import { createRequire } from 'node:module'
const require = createRequire(${JSON.stringify(pathToFileURL(path.join(ROOT, 'package.json')).href)})
const RUN = process.env.EXIT_RUN
const REDIS_URL = process.env.EXIT_REDIS_URL
`

// Three peers; the authority ensures and syncs, then the script ends while the receiving
// peers apply the events and the authority's consumer handles the ACKs.
const PROPAGATION = `
import { createPropagator } from '@authcore/node-hmac-auth-core-propagation'
import { initializeHmacHttpAuth } from '@authcore/node-hmac-auth-core'
import { MemoryManagement, AMQP } from ${JSON.stringify(HELPERS)}
async function main(broker) {
  const names = ['a', 'b', 'c'].map((s) => \`exit-\${RUN}-\${s}\`)
  const directory = Object.fromEntries(names.map((n) => [n, \`secret-of-\${n}\`]))
  const peers = []
  for (const n of names) {
    peers.push(await createPropagator({ ...broker, amqpQueue: n, propagationSecret: directory[n], redis: 'memory://',
      hmacHttpAuth: initializeHmacHttpAuth({ redis: 'memory://' }),
      management: n === names[0] ? new MemoryManagement(directory) : undefined }))
  }
  for (let k = 0; k < 3; k++) {
    await peers[0].ensure({ clientId: \`client-\${k}\`, secret: 'plain-secret', targets: names.slice(1) })
  }
  await peers[0].sync()
  console.log('READY')
  return peers
}
`

const CASES = {
  // process.exit a random 0-20 ms after sync(), while peers apply and ACKs arrive.
  mesh:
    PROPAGATION +
    `await main({ amqpHost: \`mesh-\${RUN}\`, amqpPort: 1, amqpUser: '-', amqpPassword: '-', amqpProtocol: 'memory' })
setTimeout(() => process.exit(0), Math.random() * 20)`,
  rabbitmq: PROPAGATION + `await main(AMQP)
setTimeout(() => process.exit(0), Math.random() * 20)`,
  // close() releases the event loop: the script then ends on its own.
  'rabbitmq-closed': PROPAGATION + `for (const p of await main(AMQP)) await p.close()`,
  // Registries with host streams and ready-made streams, broadcasting as the script ends.
  realtime: `
import { SubscriberRegistry } from '@authcore/fuz-app-realtime/realtime/subscriber_registry.js'
import { create_sse_response } from '@authcore/fuz-app-realtime/realtime/sse.js'
const silent = { info() {}, warn() {}, error() {} }
const registry = new SubscriberRegistry({ log: silent })
let sent = 0
registry.subscribe({ send() { sent++ }, close() {} }, ['ch'])
const responses = [0, 1, 2].map(() => create_sse_response({ log: silent }))
for (const r of responses) registry.subscribe(r.stream, ['ch'])
for (let i = 0; i < 300; i++) registry.broadcast('ch', { i })
if (sent !== 300) throw new Error('host stream missed broadcasts: ' + sent)
console.log('READY')
`,
  // The HMAC verifier on a Redis URL, a TokenManager and an AuthorizationServer on Redis,
  // with calls still in flight on the tokio runtime when the script ends.
  redis: `
import { initializeHmacHttpAuth } from '@authcore/node-hmac-auth-core'
const native = require('@authcore/native')
const prefix = \`nodeexit:\${RUN}\`
const auth = initializeHmacHttpAuth({ redis: REDIS_URL, namespace: prefix })
await auth.clients.setSecret('exit-client', 'exit-secret')
const ks = new native.KeySet()
ks.addHmac('exit-signing-secret-of-32-bytes!!')
const tm = new native.TokenManager(ks, { issuer: 'https://auth.example.com', store: REDIS_URL, keyPrefix: prefix })
const pair = await tm.createTokenPairAsync({ userId: 'u1', domainId: 'd1', scope: 'read' })
const server = new native.AuthorizationServer({ store: REDIS_URL, keyPrefix: prefix })
await server.createCodeAsync({ clientId: 'c', userId: 'u1', domainId: 'd1', redirectUri: 'https://app/cb',
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', codeChallengeMethod: 'S256', scope: 'read' })
for (let i = 0; i < 8; i++) {
  tm.verifyRefreshTokenAsync(pair.refreshToken).catch(() => {})
  auth.clients.getSecretHash('exit-client').catch(() => {})
}
console.log('READY')
`,
}

/** Runs one case in a fresh process: { code, signal, hung, stdout, stderr }. */
function runCase(source, runId) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', PRELUDE + source], {
      cwd: ROOT,
      env: { ...process.env, EXIT_RUN: runId, EXIT_REDIS_URL: REDIS_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    let hung = false
    const timer = setTimeout(() => {
      hung = true
      child.kill('SIGKILL')
    }, TIMEOUT_MS)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, hung, stdout, stderr })
    })
  })
}

async function runAll(source, runIds) {
  const results = []
  let next = 0
  async function worker() {
    while (next < runIds.length) {
      const id = runIds[next++]
      results.push(await runCase(source, id))
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker))
  return results
}

function reachable(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy()
      resolve(true)
    })
    s.on('error', () => resolve(false))
  })
}

const queues = []
const prefixes = []
after(async () => {
  // One rabbitmqctl (one Erlang VM) for every queue of the run.
  if (queues.length) {
    const names = queues.map((q) => `<<"${q}">>`).join(',')
    const code =
      'lists:foreach(fun(N) -> case rabbit_amqqueue:lookup(rabbit_misc:r(<<"hmac-credentials">>, queue, N)) of ' +
      `{ok, Q} -> rabbit_amqqueue:delete(Q, false, false, <<"authcore-tests">>); _ -> ok end end, [${names}]), ok.`
    await new Promise((resolve) => execFile('rabbitmqctl', ['-q', 'eval', code], () => resolve()))
  }
  if (prefixes.length) {
    const redis = await createClient({ url: REDIS_URL }).connect()
    for (const p of prefixes) {
      for await (const keys of redis.scanIterator({ MATCH: `${p}:*`, COUNT: 500 })) {
        if (keys.length) await redis.del(keys)
      }
    }
    await redis.quit()
  }
})

for (const [name, source] of Object.entries(CASES)) {
  test(`${name}: exits with code 0 (${RUNS} runs)`, async () => {
    assert.ok(await reachable(6379), 'Redis at 127.0.0.1:6379 is required (bash scripts/services.sh)')
    assert.ok(await reachable(5672), 'RabbitMQ at 127.0.0.1:5672 is required (bash scripts/services.sh)')
    const runIds = Array.from({ length: RUNS }, () => randomBytes(5).toString('hex'))
    if (name.startsWith('rabbitmq')) for (const r of runIds) for (const s of 'abc') queues.push(`hmac-exit-${r}-${s}.queue`)
    if (name === 'redis') for (const r of runIds) prefixes.push(`nodeexit:${r}`)
    const results = await runAll(source, runIds)
    const hung = results.filter((r) => r.hung)
    // A clean exit also prints no Rust panic (a panic on a Rust thread leaves the exit code alone).
    const crashed = results.filter(
      (r) => !r.hung && (r.code !== 0 || !r.stdout.includes('READY') || r.stderr.includes('panicked at')),
    )
    assert.ok(
      hung.length === 0 && crashed.length === 0,
      `${name}: ${hung.length}/${RUNS} hung (killed after ${TIMEOUT_MS} ms), ${crashed.length}/${RUNS} exited badly ` +
        `(codes ${JSON.stringify(crashed.map((r) => r.code ?? r.signal))}); ` +
        `first stderr: ${(crashed[0] ?? hung[0])?.stderr.slice(-2000)}`,
    )
  })
}

test('an open RabbitMQ propagator keeps the process alive until close(), as the original does', async () => {
  assert.ok(await reachable(5672), 'RabbitMQ at 127.0.0.1:5672 is required (bash scripts/services.sh)')
  const runId = randomBytes(5).toString('hex')
  for (const s of 'abc') queues.push(`hmac-exit-${runId}-${s}.queue`)
  const child = spawn(process.execPath, ['--input-type=module', '-e', PRELUDE + PROPAGATION + 'await main(AMQP)'], {
    cwd: ROOT,
    env: { ...process.env, EXIT_RUN: runId, EXIT_REDIS_URL: REDIS_URL },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  let exited = null
  const closed = new Promise((resolve) => child.on('close', (code, signal) => resolve((exited = { code, signal }))))
  const deadline = Date.now() + TIMEOUT_MS
  while (!stdout.includes('READY') && exited === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  assert.ok(stdout.includes('READY'), `the worker did not get ready: ${stderr.slice(-2000)}`)
  await new Promise((r) => setTimeout(r, 1500))
  assert.equal(exited, null, `the worker exited on its own: ${JSON.stringify(exited)} ${stderr.slice(-2000)}`)
  child.kill('SIGTERM')
  await closed
})
