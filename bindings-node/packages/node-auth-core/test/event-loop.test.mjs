// Hashing never runs on the event loop: while 8 argon2id (OWASP) hashes and 8 bcrypt
// verifications run, the JavaScript thread spends (almost) no CPU, and it keeps turning.
//
// The probe is CPU time, not wall-clock lag: the CPU the main thread spent during the work
// (/proc/self/task/<pid>/schedstat, ns) against the CPU the whole process spent
// (process.cpuUsage). Hashing on the loop puts nearly all of it on the main thread (the
// control below shows the probe catching that); hashing on the libuv pool leaves the main
// thread a few ms. Waiting for a CPU on a loaded machine adds to neither, whereas a
// wall-clock lag bound measured the OS scheduler as much as the code (a 2-core machine at
// load 10+ stalls any thread for tens of ms).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { PasswordService, native } from '@authcore/node-auth-core'

/** CPU time of this process's main (JavaScript) thread, in ms. */
function mainThreadCpuMs() {
  const [runNs] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')
  return Number(runNs) / 1e6
}

function processCpuMs() {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** Run `work`, counting interval ticks while it is pending, and measure where its CPU went. */
async function cpuSplitDuring(work) {
  let ticks = 0
  const timer = setInterval(() => ticks++, 5)
  const main0 = mainThreadCpuMs()
  const proc0 = processCpuMs()
  const result = await work()
  const mainMs = mainThreadCpuMs() - main0
  const totalMs = processCpuMs() - proc0
  clearInterval(timer)
  return { mainMs, totalMs, share: mainMs / totalMs, ticks, result }
}

// Above this share of the work's CPU on the main thread, the work ran on the event loop.
const MAX_MAIN_SHARE = 0.25

function assertOffLoop({ mainMs, totalMs, share, ticks }) {
  assert.ok(ticks >= 1, 'the loop never turned while the work was pending')
  // The work is heavy (hundreds of ms of CPU), so the share is meaningful.
  assert.ok(totalMs >= 100, `the work took only ${totalMs.toFixed(1)} ms of CPU`)
  assert.ok(
    share < MAX_MAIN_SHARE,
    `main thread spent ${mainMs.toFixed(1)} of ${totalMs.toFixed(1)} ms of CPU (${(share * 100).toFixed(0)}%)`,
  )
}

test('8 concurrent argon2id hashes leave the event loop free', async () => {
  const svc = new PasswordService()
  await svc.hashArgon2('warm-up') // builds the shared hasher (its dummy hash) first
  const r = await cpuSplitDuring(() =>
    Promise.all(Array.from({ length: 8 }, (_, i) => svc.hashArgon2(`password-${i}`))),
  )
  assert.equal(r.result.length, 8)
  for (const h of r.result) assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  assertOffLoop(r)
})

test('8 concurrent bcrypt cost-10 verifications leave the event loop free', async () => {
  const h = await native.bcryptHash('pw', 10)
  const svc = new PasswordService()
  const r = await cpuSplitDuring(() => Promise.all(Array.from({ length: 8 }, () => svc.compare('pw', h))))
  assert.deepEqual(r.result, Array(8).fill(true))
  assertOffLoop(r)
})

test('control: the same work done synchronously is caught by the probe', async () => {
  // Hash synchronously until the main thread itself has spent 150 ms of CPU on it, however
  // fast one hash is and however loaded the machine, so the probe must see the share above
  // the bound used above.
  let hashes = 0
  const r = await cpuSplitDuring(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    const c0 = mainThreadCpuMs()
    while (mainThreadCpuMs() - c0 < 150) native.passwordHashArgon2idSync(`pw${hashes++}`)
  })
  assert.ok(hashes > 0)
  assert.ok(r.totalMs >= 150)
  assert.ok(r.share >= MAX_MAIN_SHARE, `sync hashing: main thread share only ${(r.share * 100).toFixed(0)}%`)
})
