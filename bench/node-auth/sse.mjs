// SSE fan-out: awesome-node-auth's SseManager algorithm (sse-original.mjs) vs ours on the core's
// events engine, in one run, interleaved rounds, medians. Each round starts a fresh server
// process per implementation and connects real loopback sockets from a C client process
// (sse-client.c, one epoll loop), so the client's own cost stays out of the times.
//   - fan-out: one event to 10,000 subscribers, time until the last one has its frame;
//   - memory per idle subscriber: server heap (+external) and RSS after GC, with vs without the
//     subscribers, divided by their number (sockets and ServerResponses included), and what the
//     manager alone keeps per subscriber (sse-mem.mjs: 50,000 stand-in responses);
//   - sustained events/s with 1,000 subscribers (every frame to every subscriber).
// Descriptors: the clients hold one per subscriber in their process, the server one per
// subscriber in its own (a released response: the core's; `ulimit -n` per process).
import { spawn } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { table, fmt } from './common.mjs'
import { writeResults } from '../common.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const FANOUT_SUBS = Number(process.env.SSE_BENCH_SUBS ?? 10000)
const RATE_SUBS = 1000
const RATE_EVENTS = Number(process.env.SSE_BENCH_EVENTS ?? 500)
const ROUNDS = Number(process.env.SSE_BENCH_ROUNDS ?? 3)
const MEM_SUBS = Number(process.env.SSE_BENCH_MEM_SUBS ?? 50000)

function startServer(impl) {
  const child = spawn(process.execPath, ['--expose-gc', join(HERE, 'sse-server.mjs'), impl, '0'], { stdio: ['pipe', 'pipe', 'inherit'], env: process.env })
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => {
      child.port = Number(String(d).trim())
      resolve(child)
    })
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)))
  })
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))
    let buf = ''
    s.on('data', (d) => (buf += d))
    s.on('end', () => resolve(buf.slice(buf.indexOf('\r\n\r\n') + 4)))
    s.on('error', reject)
  })
}

// The clients: one C process (sse-client.c) reading every socket with epoll, so the time
// measured is the server's. `fire K` answers the ms until every open client has K more frames.
const CLIENT = process.env.SSE_BENCH_CLIENT ?? join(HERE, '.native', 'sse-client')
function startClients(port, n) {
  const child = spawn(CLIENT, [String(port), String(n)], { stdio: ['pipe', 'pipe', 'inherit'] })
  let buf = ''
  const waiting = []
  child.stdout.on('data', (d) => {
    buf += d
    let k
    while ((k = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, k)
      buf = buf.slice(k + 1)
      waiting.shift()?.(line)
    }
  })
  const exited = new Promise((_, reject) => child.once('exit', (c) => reject(new Error(`sse-client exited ${c}`))))
  exited.catch(() => {})
  const line = () => Promise.race([new Promise((r) => waiting.push(r)), exited])
  return { child, line, send: (cmd) => child.stdin.write(`${cmd}\n`) }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function round(impl) {
  const server = await startServer(impl)
  const port = server.port
  let clients
  try {
    const base = JSON.parse(await get(port, '/mem'))
    clients = startClients(port, FANOUT_SUBS)
    const ready = await clients.line()
    if (ready !== 'ready') throw new Error(`sse-client: ${ready}`)
    await sleep(300)
    const loaded = JSON.parse(await get(port, '/mem'))
    // fan-out of one event to every subscriber (median of 5)
    const fanout = []
    for (let k = 0; k < 5; k++) {
      clients.send('fire 1')
      fanout.push(Number(await clients.line()))
      await sleep(100)
    }
    clients.send(`keep ${RATE_SUBS}`)
    await clients.line()
    await sleep(500)
    // sustained rate with RATE_SUBS subscribers
    clients.send(`fire ${RATE_EVENTS}`)
    const rateMs = Number(await clients.line())
    fanout.sort((a, b) => a - b)
    return {
      fanoutMs: fanout[2],
      heapPerSubB: (loaded.heapUsed + loaded.external - base.heapUsed - base.external) / FANOUT_SUBS,
      rssPerSubB: (loaded.rss - base.rss) / FANOUT_SUBS,
      eventsPerS: RATE_EVENTS / (rateMs / 1000),
    }
  } finally {
    clients?.child.kill()
    server.kill()
  }
}

function managerMemory(impl) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(HERE, 'sse-mem.mjs'), impl, String(MEM_SUBS)], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('exit', (c) => (c === 0 ? resolve(JSON.parse(out)) : reject(new Error(`sse-mem exited ${c}`))))
  })
}

const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const results = { original: [], authcore: [] }
for (let r = 0; r < ROUNDS; r++) {
  for (const impl of r % 2 === 0 ? ['original', 'authcore'] : ['authcore', 'original']) {
    const r1 = await round(impl)
    const mem = await managerMemory(impl)
    results[impl].push({ ...r1, managerHeapPerSubB: mem.heapPerSubB, managerRssPerSubB: mem.rssPerSubB })
  }
}
const rows = Object.entries(results).map(([impl, rs]) => ({
  impl,
  [`fan-out to ${FANOUT_SUBS} (ms)`]: fmt(med(rs.map((x) => x.fanoutMs))),
  'heap+ext per idle sub (B)': fmt(med(rs.map((x) => x.heapPerSubB)), 0),
  'RSS per idle sub (B)': fmt(med(rs.map((x) => x.rssPerSubB)), 0),
  'manager heap+ext /sub (B)': fmt(med(rs.map((x) => x.managerHeapPerSubB)), 0),
  'manager RSS /sub (B)': fmt(med(rs.map((x) => x.managerRssPerSubB)), 0),
  [`events/s @${RATE_SUBS} subs`]: fmt(med(rs.map((x) => x.eventsPerS)), 0),
}))
table(rows, Object.keys(rows[0]))
const file = writeResults('node-auth-sse', { subscribers: FANOUT_SUBS, rateSubscribers: RATE_SUBS, rateEvents: RATE_EVENTS, rounds: ROUNDS, results }, process.env.AUTHCORE_NATIVE_ADDON ?? 'debug')
console.log(`results: ${file}`)
