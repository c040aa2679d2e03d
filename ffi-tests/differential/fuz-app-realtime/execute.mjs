// Runs one recorded or generated scenario on an implementation and returns everything it
// observably did: each step's value or error (class, message, code), what every stream
// received (mock streams: JSON.stringify of each sent value, closes, comments; the
// ready-made SSE stream: status, headers and the body bytes), the on_close listener calls
// and the log lines. Log arguments are joined into one line (`String(arg)`, errors as
// `Name: message`): docs/compat.md "Log lines of failures" (ours are one string).
import { dec, errorOf } from './codec.mjs'

export const OP_NAMES = ['scenario']

function capture() {
  const lines = []
  const fmt = (a) => (a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : JSON.stringify(a) ?? String(a))
  const line = (level) => (...args) => lines.push(`${level} ${args.map(fmt).join(' ')}`)
  return { lines, log: { info: line('info'), warn: line('warn'), error: line('error'), debug: line('debug') } }
}

function mockStream(rec, { listening = false, onFirstSend = null } = {}) {
  const fns = []
  let closed = false
  return {
    send(data) {
      rec.sent.push(data === undefined ? '<undefined>' : JSON.stringify(data) ?? '<unserializable>')
      if (onFirstSend && rec.sent.length === 1) onFirstSend()
    },
    comment(text) {
      rec.comments.push(text)
    },
    close() {
      rec.closes++
      if (!listening || closed) return
      closed = true
      for (const fn of fns) fn()
    },
    on_close(fn) {
      if (listening && !closed) fns.push(fn)
    },
  }
}

/**
 * `impl`: {SubscriberRegistry, create_sse_auth_guard, create_audit_log_sse,
 * hash_session_token, sse(log) -> Promise<{response, stream}>}.
 */
export async function execute(implOrPromise, kase) {
  const impl = await implOrPromise
  const { steps } = dec(kase.input)
  const { lines, log } = capture()
  const regs = []
  const sses = []
  const streams = []
  const recs = []
  const responses = []
  const guards = []
  const handles = []
  const calls = []
  const results = []

  const newMock = (opts) => {
    const rec = { kind: 'mock', sent: [], closes: 0, comments: [] }
    recs.push(rec)
    const s = mockStream(rec, opts)
    streams.push(s)
    return s
  }

  for (const step of steps) {
    try {
      let value
      switch (step.op) {
        case 'registry':
          regs.push(new impl.SubscriberRegistry(step.options))
          break
        case 'audit_sse': {
          const o = { ...step.options, log }
          const sse = impl.create_audit_log_sse(o)
          sses.push(sse)
          regs.push(sse.registry)
          break
        }
        case 'stream':
          if (step.kind === 'sse') {
            const { response, stream } = await impl.sse(log)
            const rec = { kind: 'sse', status: response.status, headers: [...response.headers.entries()].sort() }
            recs.push(rec)
            streams.push(stream)
            responses.push([rec, response, stream])
          } else if (step.kind === 'joiner') {
            newMock({
              onFirstSend: () => {
                const late = newMock()
                regs[step.reg].subscribe(late, step.options)
              },
            })
          } else {
            newMock({ listening: step.kind === 'listening' })
          }
          break
        case 'subscribe': {
          const unsubscribe = regs[step.reg].subscribe(streams[step.stream], step.options)
          handles.push(unsubscribe)
          if (step.route) streams[step.stream].on_close(unsubscribe)
          value = typeof unsubscribe
          break
        }
        case 'unsubscribe':
          value = handles[step.handle]()
          break
        case 'broadcast':
          value = regs[step.reg].broadcast(step.channel, step.data)
          if (value !== undefined) value = 'returned a value'
          break
        case 'close_by_identity':
          value = regs[step.reg].close_by_identity(step.identity)
          break
        case 'count':
          value = regs[step.reg].count
          break
        case 'make_guard':
          guards.push(impl.create_sse_auth_guard(regs[step.reg], step.role, log))
          break
        case 'guard_event':
          value = guards[step.guard](step.event)
          break
        case 'audit_event':
          value = sses[step.sse].on_audit_event(step.event)
          break
        case 'hash':
          value = impl.hash_session_token(step.value)
          break
        case 'stream_send':
          value = streams[step.stream].send(step.data)
          break
        case 'stream_comment':
          value = streams[step.stream].comment(step.text)
          break
        case 'stream_close':
          value = streams[step.stream].close()
          break
        case 'stream_on_close': {
          const label = `${step.stream}:L${calls.length}`
          value = streams[step.stream].on_close(() => calls.push(label))
          break
        }
        case 'stream_on_close_adder': {
          const s = streams[step.stream]
          value = s.on_close(() => {
            calls.push(`${step.stream}:adder`)
            s.on_close(() => calls.push(`${step.stream}:added`))
          })
          break
        }
        case 'stream_on_close_nonfunction':
          // Only the ready-made stream isolates listeners; a mock would throw out of close().
          if (recs[step.stream].kind === 'sse') value = streams[step.stream].on_close('not a function')
          else value = 'skipped'
          break
        default:
          throw new Error(`unknown step ${step.op}`)
      }
      results.push(value === undefined ? { ok: null } : { ok: value })
    } catch (e) {
      results.push({ error: errorOf(e) })
    }
  }
  // End every ready-made stream and read what its body carried.
  for (const [rec, response, stream] of responses) {
    stream.close()
    rec.body = await response.text()
  }
  return { results, streams: recs, calls, logs: lines }
}
