// Every entry point of the addon runs inside the binding's one panic boundary
// (src/error.rs `guard`, applied to every exported body by the crate's `#[napi]`
// attribute, bindings-node/boundary; `spawn`/`spawn_mapped` and the libuv tasks for async work): a Rust
// panic surfaces one way, a JS Error with code `INTERNAL_PANIC`, status 500 and the
// message `internal error (panic caught at the authcore Node boundary): <what>`, never an
// abort. This audits the sources (every `#[napi]` function, method, constructor and getter
// carries `catch_unwind`, napi-rs's own net under the boundary for its argument
// conversions) and panics on purpose through the hidden `__panicForTests` hook.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src')

function rustFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? rustFiles(p) : p.endsWith('.rs') ? [p] : []
  })
}

/** `[file:line, attribute text]` of every `#[napi…]` attribute placed on a function. */
function napiFunctions(file) {
  const lines = readFileSync(file, 'utf8').split('\n')
  const found = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*#\[napi(\(|\])/.test(lines[i])) continue
    let attr = lines[i]
    let j = i
    let depth = (attr.match(/\[/g) || []).length - (attr.match(/\]/g) || []).length
    while (depth > 0) {
      j++
      attr += '\n' + lines[j]
      depth += (lines[j].match(/\[/g) || []).length - (lines[j].match(/\]/g) || []).length
    }
    let k = j + 1
    while (k < lines.length && /^\s*(#\[|\/\/\/|$)/.test(lines[k])) k++
    if (/^\s*(pub(\([^)]*\))? )?(async )?fn /.test(lines[k])) found.push([`${file}:${i + 1}`, attr])
  }
  return found
}

test('every sync napi export is inside a panic boundary', () => {
  const fns = rustFiles(SRC).flatMap(napiFunctions)
  assert.ok(fns.length > 200, `found only ${fns.length} exports`)
  const missing = fns.filter(([, attr]) => !attr.includes('catch_unwind') && !/napi\(\s*object/.test(attr))
  assert.deepEqual(missing.map(([where]) => where), [])
})

test('every future of the addon is spawned through the one panic boundary', () => {
  // napi-rs's own spawn answers a panic with its "Panic in async function" GenericFailure;
  // only src/error.rs may call it (inside `CatchUnwind`).
  const raw = rustFiles(SRC).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) =>
        /spawn_future(_with_callback)?\(|execute_tokio_future\(/.test(line) && !file.endsWith(join('src', 'error.rs'))
          ? [`${file}:${i + 1}`]
          : [],
      ),
  )
  assert.deepEqual(raw, [])
})

test('a failing constructor throws a JS error instead of aborting', async () => {
  const { createRequire } = await import('node:module')
  const native = createRequire(import.meta.url)('../index.js')
  // Constructors of the jwt, password, oauth and policy bindings, with bad input.
  assert.throws(() => new native.TokenManager(new native.KeySet(), { issuer: 'x' }))
  assert.throws(() => new native.PasswordHasher({ memoryCost: 1 }))
  assert.throws(() => new native.PasswordHasher({ memoryCost: 1 << 20 }), /ceilings/)
  assert.throws(() => new native.PolicyEngine().addDocument('not json'))
})

const PANIC = { code: 'INTERNAL_PANIC', status: 500 }
const panicMessage = (where) => `internal error (panic caught at the authcore Node boundary): a test panic (${where})`

test('a panic in an exported function throws the one panic error', async () => {
  const { createRequire } = await import('node:module')
  const native = createRequire(import.meta.url)('../index.js')
  assert.throws(() => native.__panicForTests('sync'), { ...PANIC, message: panicMessage('sync') })
  // The addon keeps working after a panic.
  assert.equal(typeof native.generateNonce(), 'string')
})

test('a panic in async work rejects with the same error', async () => {
  const { createRequire } = await import('node:module')
  const native = createRequire(import.meta.url)('../index.js')
  await assert.rejects(native.__panicForTests('async'), { ...PANIC, message: panicMessage('async') })
  await assert.rejects(native.__panicForTests('task'), { ...PANIC, message: panicMessage('task') })
})

test("a panic in a propagator's future rejects with the same error", async () => {
  const { createRequire } = await import('node:module')
  const native = createRequire(import.meta.url)('../index.js')
  // The propagator maps its own errors (jsErrorId), but a panic takes the one path.
  await assert.rejects(native.__panicForTests('propagation'), {
    ...PANIC,
    message: panicMessage('propagation'),
  })
})
