// Node runner of ffi-tests/vectors/realtime.json (fuz_app's realtime SSE auth guard),
// through the public API of @authcore/fuz-app-realtime. Every case runs; an unknown op
// fails. guard_decision cases run both the pure decision (guard_decision) and the real
// guard over a registry of probe streams (what closes, and the exact info line).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import {
  SSE_CONNECTED_COMMENT,
  SubscriberRegistry,
  create_sse_auth_guard,
  create_sse_response,
  guard_decision,
  hash_session_token,
} from '@authcore/fuz-app-realtime'

const FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors', 'realtime.json')
const doc = JSON.parse(readFileSync(FILE, 'utf8'))

function probe() {
  return {
    closed: false,
    send() {},
    comment() {},
    close() {
      this.closed = true
    },
    on_close() {},
  }
}

/** The guard over a registry holding one probe per candidate identity of the event. */
function runGuard(event, requiredRole) {
  const candidates = new Set()
  for (const v of [event.account_id, event.target_account_id, event.metadata?.session_id]) {
    if (typeof v === 'string' && v !== '') candidates.add(v)
  }
  const lines = []
  const log = { info: (...a) => lines.push(['info', ...a]), warn: (...a) => lines.push(['warn', ...a]), error: (...a) => lines.push(['error', ...a]) }
  const registry = new SubscriberRegistry({ log })
  const probes = new Map()
  for (const id of candidates) {
    const p = probe()
    registry.subscribe(p, { channels: ['audit_log'], scope: id, groups: [id] })
    probes.set(id, p)
  }
  create_sse_auth_guard(registry, requiredRole, log)(event)
  const closed = [...probes].filter(([, p]) => p.closed).map(([id]) => id)
  return { closed, lines, candidates }
}

async function frameOf(write) {
  const { response, stream } = create_sse_response(null, { info() {}, warn() {}, error() {} })
  write(stream)
  stream.close()
  const body = await response.text()
  assert.ok(body.startsWith(SSE_CONNECTED_COMMENT))
  return body.slice(SSE_CONNECTED_COMMENT.length)
}

const ran = {}
for (const c of doc.cases) {
  test(`${c.op}: ${c.id}`, async () => {
    switch (c.op) {
      case 'guard_decision': {
        const { event, required_role } = c.input
        assert.deepEqual(guard_decision(event, required_role), c.expected)
        const { closed, lines, candidates } = runGuard(event, required_role)
        if (c.expected === null) {
          assert.deepEqual(closed, [])
          assert.deepEqual(lines, [])
        } else {
          const { kind, identity, event_type } = c.expected
          assert.ok(candidates.has(identity), 'the expected identity is one of the event fields')
          assert.deepEqual(closed, [identity])
          const what = kind === 'session' ? 'session' : 'account'
          assert.deepEqual(lines, [['info', `SSE auth guard: closed 1 stream(s) for ${what} ${identity} (${event_type})`]])
        }
        break
      }
      case 'session_hash':
        assert.equal(hash_session_token(c.input.token), c.expected)
        break
      case 'data_frame':
        assert.equal(await frameOf((s) => s.send(c.input.data)), c.expected)
        break
      case 'comment_frame':
        assert.equal(await frameOf((s) => s.comment(c.input.text)), c.expected)
        break
      default:
        assert.fail(`${c.id}: unknown op ${c.op}`)
    }
    ran[c.op] = (ran[c.op] ?? 0) + 1
  })
}

test('every case ran', () => {
  assert.deepEqual(ran, { guard_decision: 26, session_hash: 4, data_frame: 8, comment_frame: 3 })
})
