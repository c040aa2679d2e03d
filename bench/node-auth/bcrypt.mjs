// bcrypt cost-10 verify: authcore vs bcryptjs 3 (node-auth's library) and @node-rs/bcrypt,
// sequential latency and 8 concurrent verifications with the event loop's lag. authcore runs at
// most kdfConcurrency() key derivations at once (default: CPUs - 1, at least 1); the
// "kdfConcurrency=CPUs" row is the same call with the limit raised, for the trade-off.
import os from 'node:os'
import bcryptjs from 'bcryptjs'
import * as nodeRs from '@node-rs/bcrypt'
import { loadAuthcore, interleavedMedians, withLagProbe, table, writeResults, fmt } from './common.mjs'

const { PasswordService, native } = await loadAuthcore()

const pw = 'correct horse battery staple'
const hash = bcryptjs.hashSync(pw, 10) // one $2b$10$ hash verified by everyone
const svc = new PasswordService()
const defaultLimit = native.kdfConcurrency()
const cpus = os.availableParallelism()
const limits = { [`authcore (compare, kdfConcurrency=${cpus})`]: cpus }
const impls = {
  'authcore (PasswordService.compare)': () => svc.compare(pw, hash),
  [`authcore (compare, kdfConcurrency=${cpus})`]: () => svc.compare(pw, hash),
  'authcore (bcryptVerifySync)': async () => native.bcryptVerifySync(pw, hash),
  'bcryptjs (compare)': () => bcryptjs.compare(pw, hash),
  'bcryptjs (compareSync)': async () => bcryptjs.compareSync(pw, hash),
  '@node-rs/bcrypt (verify)': () => nodeRs.verify(pw, hash),
}
const RUNS = Number(process.env.BCRYPT_RUNS || 21)
for (const [name, verify] of Object.entries(impls)) {
  if ((await verify()) !== true) throw new Error(`${name} rejected the hash`)
}
const ms = await interleavedMedians(impls, RUNS)
// Batches: 3 interleaved rounds; median wall time and the worst lag seen.
const batches = Object.fromEntries(Object.keys(impls).map((n) => [n, []]))
for (let r = 0; r < 3; r++) {
  for (const [name, verify] of Object.entries(impls)) {
    native.setKdfConcurrency(limits[name] ?? defaultLimit)
    batches[name].push(await withLagProbe(() => Promise.all(Array.from({ length: 8 }, () => verify()))))
    native.setKdfConcurrency(defaultLimit)
  }
}
const rows = []
for (const name of Object.keys(impls)) {
  const wall = batches[name].map((b) => b.wall).sort((x, y) => x - y)[1]
  const lag = Math.max(...batches[name].map((b) => b.maxLag))
  rows.push({ impl: name, 'verify ms (median)': fmt(ms[name]), '8 concurrent, wall ms': fmt(wall, 1), 'max event-loop lag ms': fmt(lag, 1), _ms: ms[name], _wall: wall })
}
table(rows, ['impl', 'verify ms (median)', '8 concurrent, wall ms', 'max event-loop lag ms'])
const ours = rows[0]._ms
const bjs = rows.find((r) => r.impl === 'bcryptjs (compare)')._ms
const bjsWall = rows.find((r) => r.impl === 'bcryptjs (compare)')._wall
const goals = {
  speedupVsBcryptjs: +(bjs / ours).toFixed(2),
  batchThroughputVsBcryptjs: +(bjsWall / rows[0]._wall).toFixed(2),
}
goals.met = goals.speedupVsBcryptjs >= 4
console.log(`\nbcrypt cost 10 verify: ${goals.speedupVsBcryptjs}x bcryptjs per call, ${goals.batchThroughputVsBcryptjs}x on 8 concurrent -> goal (>=4x per call) ${goals.met ? 'MET' : 'NOT MET'}`)
console.log('wrote', writeResults('node-auth-bcrypt', { cost: 10, runs: RUNS, kdfConcurrency: defaultLimit, rows: rows.map(({ _ms, _wall, ...r }) => r), goals }))
