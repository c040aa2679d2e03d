// A large SSE fan-out through the drop-in: the tools router's stream on a real HTTP server,
// 640 raw TCP clients, events published with AuthTools.track and SseManager.broadcast. At this
// size the core writes each frame to the released sockets with its writer pool (the calling
// thread plus writer threads, from 512 sockets on); every client must receive every frame of
// its topics once, in order, byte for byte, and nothing else, also after 100 clients left.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import express from 'express'
import { AuthEventBus, AuthTools, createToolsRouter } from '@authcore/node-auth-core'

// The core's writer pool starts from this many sockets in one fan-out (2 x PARALLEL_MIN).
const POOL_MIN = 512
const WANTED = 640
const LEAVING = 100
// Clients connecting at once (the listen backlog is 511).
const WAVE = 128

// The soft RLIMIT_NOFILE (Linux); Infinity when unknown.
function openFilesLimit() {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
    const soft = line?.trim().split(/\s+/)[3]
    return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft)
  } catch {
    return Infinity
  }
}

function openFiles() {
  try {
    return fs.readdirSync('/proc/self/fd').length
  } catch {
    return 0
  }
}

// Whether the core runs more than one writer: it uses the CPUs this process may run on (as
// os.availableParallelism) capped by a CFS quota (cgroup v2 cpu.max or v1 cpu.cfs_quota_us).
function coreHasWriterThreads() {
  if (process.platform !== 'linux' || os.availableParallelism() < 2) return false
  const quotas = []
  try {
    const v2 = fs.readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1]
    for (const p of [v2 && `/sys/fs/cgroup${v2}/cpu.max`, '/sys/fs/cgroup/cpu.max']) {
      if (!p || !fs.existsSync(p)) continue
      const [q, period] = fs.readFileSync(p, 'utf8').trim().split(/\s+/)
      if (q !== 'max') quotas.push(Number(q) / Number(period))
    }
    const v1 = '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'
    if (fs.existsSync(v1)) {
      const q = Number(fs.readFileSync(v1, 'utf8'))
      if (q > 0) quotas.push(q / Number(fs.readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_period_us', 'utf8')))
    }
  } catch {
    // no cgroup information: the CPU count decides
  }
  return quotas.every((q) => Math.floor(q) >= 2)
}

function threadNames() {
  return fs.readdirSync('/proc/self/task').map((t) => {
    try {
      return fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim()
    } catch {
      return ''
    }
  })
}

/** Polls `cond` every 5 ms until it holds or `ms` pass; true when it held. */
async function until(cond, ms = 15000) {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 5))
  }
  return true
}

/** The bytes of one SSE frame on the wire of a chunked HTTP/1.1 response. */
const chunk = (frame) => `${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`

/**
 * A chunked HTTP/1.1 response as received so far: status line, headers, the body's frames
 * (split after each blank line) and whether the last chunk came. Throws on bad framing.
 */
function parseStream(buf) {
  const head = buf.indexOf('\r\n\r\n')
  if (head < 0) return null
  const [status, ...headerLines] = buf.subarray(0, head).toString('latin1').split('\r\n')
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
  const parts = []
  let at = head + 4
  let ended = false
  for (;;) {
    const eol = buf.indexOf('\r\n', at)
    if (eol < 0) break
    const sizeText = buf.subarray(at, eol).toString('latin1')
    assert.match(sizeText, /^[0-9a-f]+$/, `a chunk size line, got ${JSON.stringify(sizeText)}`)
    const size = parseInt(sizeText, 16)
    if (buf.length < eol + 2 + size + 2) break
    assert.equal(buf.subarray(eol + 2 + size, eol + 4 + size).toString('latin1'), '\r\n', 'CRLF after the chunk data')
    at = eol + 4 + size
    if (size === 0) {
      ended = true
      break
    }
    parts.push(buf.subarray(eol + 2, eol + 2 + size))
  }
  const rest = buf.length - at
  const body = Buffer.concat(parts).toString('utf8')
  const frames = body.length === 0 ? [] : body.split(/(?<=\n\n)/)
  return { status, headers, frames, ended, rest }
}

test('SSE fan-out to 640 raw TCP clients through the tools router: every frame once, in order, exact bytes; 100 leave; clean shut-down', { timeout: 120000 }, async (t) => {
  // Each client: its socket here and the server's (the core's copy once released; during the
  // hand-over Node's too, for at most one wave of WAVE), and a margin.
  const limit = openFilesLimit()
  const clientsN = Math.min(WANTED, Math.floor((limit - openFiles() - WAVE - 64) / 2))
  if (clientsN < POOL_MIN + 1) {
    t.skip(`open files limit ${limit} allows ${clientsN} clients, fewer than the writer pool's ${POOL_MIN} + 1`)
    return
  }
  const leavingN = Math.min(LEAVING, clientsN - POOL_MIN)
  if (clientsN < WANTED) t.diagnostic(`open files limit ${limit}: ${clientsN} clients, ${leavingN} leave`)

  const records = []
  const tools = new AuthTools(new AuthEventBus(), {
    sse: true,
    sseOptions: { heartbeatIntervalMs: 0 },
    // track()'s id and timestamp, as the frames carry them.
    telemetryStore: { save: async (r) => void records.push(r) },
  })
  const sse = tools.sseManager
  const app = express()
  // Token `u7` is user u7; `u5.acme` is user u5 of tenant acme.
  const auth = (req, res, next) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '')
    const [id, tenantId] = token.split('.')
    if (!/^u\d+$/.test(id)) return res.status(401).json({ error: 'unauthorized' })
    req.user = tenantId ? { id, tenantId } : { id }
    next()
  }
  app.use('/tools', createToolsRouter(tools, { authMiddleware: auth, swagger: false }))
  const server = http.createServer(app)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const port = server.address().port

  // One in five clients is of tenant acme (topics global, tenant:acme, user:uN); the others
  // have global and user:uN.
  const clients = Array.from({ length: clientsN }, (_, i) => {
    const acme = i % 5 === 0
    return {
      i,
      acme,
      topics: ['global', ...(acme ? ['tenant:acme'] : []), `user:u${i}`],
      token: acme ? `u${i}.acme` : `u${i}`,
      buf: Buffer.alloc(0),
      expected: [], // the frames after `connected`, in order
      gone: false,
      ended: false,
    }
  })
  const open = () => clients.filter((c) => !c.gone)
  const connect = (c) => {
    c.sock = net.connect(port, '127.0.0.1', () => c.sock.write(`GET /tools/stream?token=${c.token} HTTP/1.1\r\nHost: x\r\n\r\n`))
    c.sock.on('data', (d) => (c.buf = Buffer.concat([c.buf, d])))
    c.sock.on('end', () => (c.ended = true))
    c.sock.on('error', (err) => (c.error = err))
  }
  const hasConnected = (c) => c.buf.indexOf('\n\n\r\n') > 0

  // Every open client's stream so far: the connected frame, then exactly `expected`.
  const checkStreams = (what, { ended = false } = {}) => {
    for (const c of open()) {
      assert.equal(c.error, undefined, `${what}: client ${c.i} socket error`)
      const s = parseStream(c.buf)
      assert.ok(s, `${what}: client ${c.i} got no response head`)
      assert.equal(s.rest, 0, `${what}: client ${c.i} has ${s.rest} bytes of an incomplete chunk`)
      assert.equal(s.ended, ended, `${what}: client ${c.i} stream ended: ${s.ended}`)
      assert.equal(s.frames[0], c.connectedFrame, `${what}: client ${c.i} connected frame`)
      assert.deepEqual(s.frames.slice(1), c.expected, `${what}: client ${c.i} (${c.topics}) frames`)
    }
  }
  // Wait (bounded) until each open client holds at least the bytes of what it should get.
  const received = (c) => c.buf.length >= c.base + c.expected.reduce((n, f) => n + Buffer.byteLength(chunk(f)), 0)
  const deliver = async (what) => {
    await until(() => open().every(received))
    checkStreams(what)
  }
  // An event reaches the open clients subscribed to its topic (no tenant of another's here).
  const expect = (topic, frame) => {
    for (const c of open()) if (c.topics.includes(topic)) c.expected.push(frame)
  }
  // The frame of track(type, data, {userId?}) as the spec gives it (first topic: global).
  const trackFrame = (rec) => {
    const who = rec.userId ? `,"userId":"${rec.userId}"` : ''
    const data = `{"id":"${rec.id}","timestamp":"${rec.timestamp}","topic":"global","type":"${rec.event}"${who},"rawData":{"id":"${rec.id}","event":"${rec.event}","timestamp":"${rec.timestamp}","data":${JSON.stringify(rec.data)}${who}}}`
    return `id: ${rec.id}\nevent: ${rec.event}\ndata: ${data}\n\n`
  }
  const track = async (type, data, options = {}) => {
    const before = records.length
    await tools.track(type, data, options)
    assert.equal(records.length, before + 1)
    return trackFrame(records.at(-1))
  }

  try {
    // ---- subscribe (in waves) -----------------------------------------------------------
    for (let w = 0; w < clientsN; w += WAVE) {
      const wave = clients.slice(w, w + WAVE)
      wave.forEach(connect)
      assert.ok(await until(() => wave.every(hasConnected)), `clients ${w}..${w + wave.length - 1} connected`)
    }
    assert.ok(await until(() => sse.connectionCount === clientsN), `${sse.connectionCount} of ${clientsN} subscribed`)
    for (const c of clients) {
      const s = parseStream(c.buf)
      assert.equal(s.status, 'HTTP/1.1 200 OK')
      assert.equal(s.headers['content-type'], 'text/event-stream')
      assert.equal(s.headers['cache-control'], 'no-cache')
      assert.equal(s.headers['transfer-encoding'], 'chunked')
      assert.equal(s.frames.length, 1, `client ${c.i}: only the connected frame so far`)
      const m = s.frames[0].match(/^id: ([0-9a-f-]{36})\nevent: connected\ndata: (.*)\n\n$/)
      assert.ok(m, `client ${c.i}: connected frame ${JSON.stringify(s.frames[0])}`)
      const json = JSON.parse(m[2])
      c.connectionId = json.rawData.connectionId
      assert.match(c.connectionId, /^[0-9a-f-]{36}$/)
      c.connectedFrame = `id: ${m[1]}\nevent: connected\ndata: {"id":"${m[1]}","type":"connected","timestamp":"${json.timestamp}","topic":"meta","rawData":{"connectionId":"${c.connectionId}","topics":${JSON.stringify(c.topics)}}}\n\n`
      assert.equal(s.frames[0], c.connectedFrame, `client ${c.i}: connected frame bytes`)
      c.base = c.buf.length
    }
    assert.equal(new Set(clients.map((c) => c.connectionId)).size, clientsN, 'one connection id each')
    // The core owns the idle streams (released): the http.Server holds none of their sockets.
    if (process.platform === 'linux') {
      let held = -1
      for (const deadline = Date.now() + 15000; held !== 0 && Date.now() < deadline; ) {
        held = await new Promise((r, j) => server.getConnections((e, n) => (e ? j(e) : r(n))))
        if (held !== 0) await new Promise((r) => setTimeout(r, 5))
      }
      assert.equal(held, 0, 'released: the http.Server holds none of the stream sockets')
    }

    // ---- publish: global to all, tenant:acme to a fifth, a user topic to one ------------
    const acmeN = clients.filter((c) => c.acme).length
    const e1 = await track('fanout.first', { n: 1, note: 'größe' })
    expect('global', e1)
    if (coreHasWriterThreads()) {
      assert.ok(threadNames().includes('authcore-sse-wr'), `a ${clientsN}-socket fan-out starts the core's writer threads (threads: ${threadNames()})`)
    }
    const e2 = 'id: tenant-1\nevent: fanout.tenant\ndata: {"id":"tenant-1","timestamp":"2026-01-01T00:00:00.000Z","topic":"tenant:acme","type":"fanout.tenant","tenantId":"acme","rawData":{"only":"acme"}}\n\n'
    sse.broadcast('tenant:acme', { id: 'tenant-1', timestamp: '2026-01-01T00:00:00.000Z', type: 'fanout.tenant', data: { only: 'acme' }, tenantId: 'acme' })
    expect('tenant:acme', e2)
    // global, then user:u3 with the same id: u3 gets it once (dedupe).
    const e3 = await track('fanout.user', { n: 3 }, { userId: 'u3' })
    expect('global', e3)
    const e4 = 'id: user-7\nevent: fanout.direct\ndata: {"id":"user-7","timestamp":"2026-01-01T00:00:01.000Z","topic":"user:u7","type":"fanout.direct","userId":"u7","rawData":"hello u7"}\n\n'
    sse.broadcast('user:u7', { id: 'user-7', timestamp: '2026-01-01T00:00:01.000Z', type: 'fanout.direct', data: 'hello u7', userId: 'u7' })
    expect('user:u7', e4)
    const e5 = await track('fanout.last', { n: 5 })
    expect('global', e5)
    await deliver('first round')
    assert.equal(clients.filter((c) => c.expected.includes(e2)).length, acmeN)
    assert.deepEqual(clients.filter((c) => c.expected.includes(e4)).map((c) => c.i), [7])

    // ---- 100 clients leave; the others keep getting every frame -------------------------
    const leaving = clients.filter((c) => c.i % 6 === 5).slice(0, leavingN)
    assert.equal(leaving.length, leavingN)
    assert.ok(leaving.some((c) => c.acme) && !leaving.some((c) => c.i === 7))
    for (const c of leaving) {
      c.sock.destroy()
      c.gone = true
    }
    const stay = clientsN - leavingN
    assert.ok(await until(() => sse.connectionCount === stay), `subscribers after ${leavingN} left: ${sse.connectionCount}, want ${stay}`)
    const e6 = await track('fanout.after', { n: 6 }, { userId: 'u7' })
    expect('global', e6)
    const e7 = 'id: tenant-2\nevent: fanout.tenant\ndata: {"id":"tenant-2","timestamp":"2026-01-01T00:00:02.000Z","topic":"tenant:acme","type":"fanout.tenant","tenantId":"acme","rawData":{"only":"acme","round":2}}\n\n'
    sse.broadcast('tenant:acme', { id: 'tenant-2', timestamp: '2026-01-01T00:00:02.000Z', type: 'fanout.tenant', data: { only: 'acme', round: 2 }, tenantId: 'acme' })
    expect('tenant:acme', e7)
    const e8 = await track('fanout.end', { n: 8 })
    expect('global', e8)
    await deliver('after some left')
    assert.equal(sse.connectionCount, stay)

    // ---- shut down: every stream ends (last chunk), the manager is empty, the server closes
    for (const c of open()) sse.disconnect(c.connectionId)
    assert.equal(sse.connectionCount, 0)
    assert.ok(await until(() => open().every((c) => c.ended)), `${open().filter((c) => !c.ended).length} streams not ended`)
    checkStreams('ended', { ended: true })
  } finally {
    for (const c of clients) c.sock?.destroy()
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
})
