#!/usr/bin/env node
// Differential harness: runs an original library and our drop-in side by side on randomised
// inputs from a printed seed and compares what each answers (value, error class/code/
// message, cookies, store calls, responses). See README.md.
//
//   node ffi-tests/differential/run.mjs --suite node-auth-core \
//     --original /work/originals/awesome-node-auth --seed 1 [--record] [--only password,jwt] [--verbose]
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const here = path.dirname(fileURLToPath(import.meta.url))
const SUITES = {
  'node-auth-core': () => import('./node-auth-core/suite.mjs'),
  'fuz-app-realtime': () => import('./fuz-app-realtime/suite.mjs'),
  'node-hmac-auth-core': () => import('./node-hmac-auth-core/suite.mjs'),
  propagation: () => import('./propagation/suite.mjs'),
}

const { values } = parseArgs({
  options: {
    suite: { type: 'string' },
    original: { type: 'string' },
    seed: { type: 'string', multiple: true },
    record: { type: 'boolean', default: false },
    only: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
})
if (!values.suite || !SUITES[values.suite] || !values.original || !values.seed?.length) {
  console.error(`usage: run.mjs --suite ${Object.keys(SUITES).join('|')} --original <checkout> --seed N [--seed M ...] [--record] [--only capability,...] [--verbose]`)
  process.exit(2)
}

const suite = await SUITES[values.suite]()
const original = await suite.loadOriginal(path.resolve(values.original))
const ours = await suite.loadOurs()
const only = values.only ? values.only.split(',') : undefined
const short = (v) => {
  const s = JSON.stringify(v)
  return s.length > 400 ? s.slice(0, 400) + '…' : s
}

let unexplained = 0
const recorded = []
for (const seedText of values.seed) {
  const seed = Number(seedText)
  const cases = suite.generate(seed, { only })
  console.log(`seed ${seed}: ${cases.length} cases (${values.suite} against ${suite.originalName})`)
  const tally = { same: 0, kept: {}, different: 0 }
  for (const kase of cases) {
    const theirs = await suite.execute(original, kase)
    const mine = await suite.execute(ours, kase)
    const same = JSON.stringify(theirs) === JSON.stringify(mine)
    const entry = { id: kase.id, capability: kase.capability, op: kase.op, input: kase.input, expect: theirs }
    if (same) {
      tally.same++
    } else {
      const kept = suite.kept(kase, mine, theirs)
      if (kept) {
        tally.kept[kept] = (tally.kept[kept] ?? 0) + 1
        entry.kept = { ref: kept, ours: mine }
        if (values.verbose) console.log(`  kept ${kase.id} (${kept})\n    original: ${short(theirs)}\n    ours:     ${short(mine)}`)
      } else {
        tally.different++
        unexplained++
        console.log(`  DIFFERENT ${kase.id}\n    input:    ${short(kase.input)}\n    original: ${short(theirs)}\n    ours:     ${short(mine)}`)
      }
    }
    recorded.push(entry)
  }
  const kept = Object.values(tally.kept).reduce((a, b) => a + b, 0)
  console.log(`seed ${seed}: ${tally.same} same, ${kept} kept (deliberate, docs/compat.md), ${tally.different} different`)
  for (const [ref, n] of Object.entries(tally.kept)) console.log(`  kept x${n}: ${ref}`)
}

if (values.record) {
  if (unexplained) {
    console.error(`not recording: ${unexplained} unexplained difference(s)`)
    process.exit(1)
  }
  const file = path.join(here, '..', 'vectors', 'differential', `${values.suite}.json`)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const prev = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { cases: [] }
  const seeds = new Set([...(prev.seeds ?? []), ...values.seed.map(Number)])
  const fresh = new Set(values.seed.map((s) => `s${s}-`))
  const keep = prev.cases.filter((c) => ![...fresh].some((p) => c.id.startsWith(p)))
  const doc = {
    description: suite.description,
    source: `${suite.originalName}, run by ffi-tests/differential/run.mjs --suite ${values.suite} --seed N --record: "expect" is what the ORIGINAL answered; "kept" marks a deliberate difference (docs/compat.md) and holds what we answer instead.`,
    seeds: [...seeds].sort((a, b) => a - b),
    cases: [...keep, ...recorded].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true })),
  }
  fs.writeFileSync(file, JSON.stringify(doc, null, 1) + '\n')
  console.log(`recorded ${recorded.length} case(s) into ${path.relative(process.cwd(), file)} (${doc.cases.length} in all)`)
}
process.exit(unexplained ? 1 : 0)
