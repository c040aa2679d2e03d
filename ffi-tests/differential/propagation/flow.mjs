// Propagation flows (`flow.scenario`): a source peer S (management adapter, HMAC instances)
// and a target peer T on one in-process mesh, with the harness playing the counterpart
// peers `spy` and `spy2` (queues nobody else consumes). Steps: ensure/rotate/revoke/sync on
// S (the events S publishes to the spies are taken as bytes), ACKs the harness sends S for
// those events, and apply events (well-formed or not) the harness sends S or T (the ACKs
// they send back to `spy` are taken as bytes).
//
// Compared per step: the result or error, the wire bytes the peers published to the spies
// (parsed in key order; UUIDs named by first appearance, times within the run `<now>`), the
// management calls (inputs in key order), the logger lines, and the state each step leaves:
// every peer's propagation keys (the layout of the original: `propagation:last-seen:*`,
// `propagation:ack:*`, `propagation:client-pending:*`, `propagation:client-results:*`, with
// whether a TTL is set) and its credential store (`hmacauth:clients`). The command sequence
// is not compared (docs/compat.md: "Redis sequences", "Receiver's Redis round trips").
import { errorOf } from '../fuz-app-realtime/codec.mjs'
import { recordingRedis } from '../node-hmac-auth-core/lifecycle.mjs'

export const TS0 = 1_000_000_000_000 // apply events the harness sends carry 2001 times
const FAR = 4_000_000_000_000
const SECRETS = { src: 'secret-S', tgt: 'secret-T', spy: 'secret-spy', spy2: 'secret-spy2' }
const ORIGINAL_KEYS = /^propagation:(last-seen|ack|client-pending|client-results):/

/** A node-redis v4 PropagationRedisClient over plain maps (TTL: set or not). */
function propagationRedis(log) {
  const hashes = new Map()
  const sets = new Map()
  const strings = new Map()
  const ttl = new Set()
  const note = (...a) => log.push(a)
  const drop = (k) => {
    hashes.delete(k)
    sets.delete(k)
    strings.delete(k)
    ttl.delete(k)
  }
  const client = {
    async hGet(k, f) {
      note('hGet')
      return hashes.get(k)?.get(f) ?? null
    },
    async hSet(k, a, b) {
      note('hSet')
      if (!hashes.has(k)) hashes.set(k, new Map())
      const h = hashes.get(k)
      const pairs = typeof a === 'object' && a !== null ? Object.entries(a) : [[a, b]]
      let n = 0
      for (const [f, v] of pairs) {
        if (!h.has(f)) n++
        h.set(f, String(v))
      }
      return n
    },
    async hGetAll(k) {
      note('hGetAll')
      return Object.fromEntries(hashes.get(k) ?? [])
    },
    async hDel(k, f) {
      note('hDel')
      const h = hashes.get(k)
      const had = h?.delete(f) ? 1 : 0
      if (h && h.size === 0) drop(k)
      return had
    },
    async sAdd(k, m) {
      note('sAdd')
      if (!sets.has(k)) sets.set(k, new Set())
      const s = sets.get(k)
      const had = s.has(m)
      s.add(m)
      return had ? 0 : 1
    },
    async sRem(k, m) {
      note('sRem')
      const s = sets.get(k)
      const had = s?.delete(m) ? 1 : 0
      if (s && s.size === 0) drop(k)
      return had
    },
    async sCard(k) {
      note('sCard')
      return sets.get(k)?.size ?? 0
    },
    async expire(k) {
      note('expire')
      if (!hashes.has(k) && !sets.has(k) && !strings.has(k)) return 0
      ttl.add(k)
      return 1
    },
    async del(k) {
      note('del')
      const had = hashes.has(k) || sets.has(k) || strings.has(k)
      drop(k)
      return had ? 1 : 0
    },
    // Commands outside the nine (authcore's cursor lock): kept as plain strings.
    async set(k, v, o) {
      note('set')
      if ((o?.NX || o?.nx) && strings.has(k)) return null
      strings.set(k, String(v))
      return 'OK'
    },
    async get(k) {
      note('get')
      return strings.get(k) ?? null
    },
  }
  /** The original's keys, sorted, with their values and whether a TTL is set. */
  const state = () => {
    const out = {}
    const keys = [...hashes.keys(), ...sets.keys()].filter((k) => ORIGINAL_KEYS.test(k)).sort()
    for (const k of keys) {
      const v = hashes.has(k) ? Object.fromEntries([...hashes.get(k)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : [...sets.get(k)].sort()
      out[k] = { value: v, ttl: ttl.has(k) }
    }
    return out
  }
  return { client, state }
}

/** The management adapter of S: an in-memory table of pending propagations. */
function management(calls, behaviour) {
  let pending = []
  const targetsOf = new Map()
  const rec = (name, input) => calls.push([name, input === undefined ? '<undefined>' : JSON.parse(JSON.stringify(input ?? null))])
  const row = (clientId, track, op, secretPlain, allowedIps, expiresAt, targets) => {
    const r = { clientId, track, op, secretPlain, allowedIps, expiresAt, pendingTargets: targets.map((t) => ({ targetAmqpQueue: t, propagationSecret: SECRETS[t] ?? 'secret-x' })) }
    if (allowedIps === undefined) delete r.allowedIps
    return r
  }
  return {
    async upsertCredentialWithTargets(input) {
      rec('upsertCredentialWithTargets', input)
      targetsOf.set(`${input.track}:${input.clientId}`, input.targets)
      pending = pending.filter((p) => !(p.clientId === input.clientId && p.track === input.track))
      pending.push(row(input.clientId, input.track, input.op, input.secretPlain ?? null, input.allowedIps, input.expiresAt ?? null, input.targets))
    },
    async rotateCredentialSecret(input) {
      rec('rotateCredentialSecret', input)
      const targets = targetsOf.get(`${input.track}:${input.clientId}`) ?? ['spy']
      pending = pending.filter((p) => !(p.clientId === input.clientId && p.track === input.track))
      pending.push(row(input.clientId, input.track, 'credential.update', input.secretPlain, undefined, null, targets))
    },
    async fetchPendingPropagations() {
      rec('fetchPendingPropagations')
      const out = pending
      pending = []
      return out
    },
    async fetchSourcePropagationSecret(q) {
      rec('fetchSourcePropagationSecret', q)
      if (behaviour === 'throws') throw new Error('adapter down')
      if (behaviour === 'empty') return ''
      return SECRETS[q] ?? null
    },
    async markTargetSent(input) {
      rec('markTargetSent', input)
    },
    async markTargetSuccess(input) {
      rec('markTargetSuccess', input)
    },
    async markTargetError(input) {
      rec('markTargetError', input)
    },
    async markCredentialFullyPropagated(input) {
      rec('markCredentialFullyPropagated', input)
    },
  }
}

function logger(lines) {
  const line = (level) => (...args) => lines.push([level, args.map((a) => (a instanceof Error ? `<${a.constructor.name}: ${a.message}>` : String(a))).join(' ')])
  return { info: () => {}, warn: line('warn'), error: line('error') }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Waits until the step is over: the spies hold `wantWire` messages (when the reference side's
 * count is known), then nothing moved for a while.
 */
async function quiesce(count, depth, wantWire) {
  const start = Date.now()
  let last = -1
  let since = Date.now()
  for (;;) {
    await sleep(10)
    const n = count()
    if (n !== last) {
      last = n
      since = Date.now()
    }
    if ((wantWire === undefined || depth() >= wantWire) && Date.now() - since >= 150) return
    if (Date.now() - start > 15_000) return
  }
}

/**
 * The end of a step on a mesh that says what it still has to handle (`inFlight`: messages
 * waiting in a consumed queue or being handled; our mesh): nothing in flight, then one turn of
 * the event loop (its poll phase runs the logger calls a handler queued before it finished),
 * and still nothing in flight. A step that is not over within 15 s fails.
 */
async function settle(inFlight, what) {
  const start = Date.now()
  for (;;) {
    if (inFlight() === 0) {
      await new Promise((resolve) => setImmediate(resolve))
      if (inFlight() === 0) return
    }
    if (Date.now() - start > 15_000) throw new Error(`${what} not over after 15 s: ${inFlight()} message(s) in flight`)
    await sleep(2)
  }
}

function applyEventBytes(e, to) {
  if (e.raw !== undefined) return Buffer.from(e.raw, 'utf8')
  const o = {
    eventId: e.eventId,
    ts: e.ts,
    propagationSecret: e.secret === 'right' ? SECRETS[to] : e.secret === 'empty' ? '' : 'not-the-secret',
    senderAmqpQueue: e.sender,
    op: e.op,
    track: e.track,
    clientId: e.clientId,
    payload: { secretHash: e.secretHash },
  }
  if (e.allowedIps !== undefined) o.payload.allowedIps = e.allowedIps
  if (e.expiresAt !== undefined) o.payload.expiresAt = e.expiresAt
  return Buffer.from(JSON.stringify(o), 'utf8')
}

/**
 * Runs one scenario on a side: `side` = {createPropagator, hmac (the side's core package),
 * mesh(name) → {declare, inject, take, depth, inFlight?}, tag}. A step is over when the mesh
 * has nothing in flight (`settle`, our mesh) or, on a mesh that cannot say (the original's
 * stand-in), when nothing moved for 150 ms (`quiesce`); `hints`: per step, how many trace
 * entries the step produced on the reference side (what `quiesce` waits for first).
 */
export async function flowScenario(side, input, hints) {
  const meshName = `diff-${side.tag}-${input.id}-${Math.random().toString(36).slice(2)}`
  const mesh = side.mesh(meshName)
  mesh.declare('hmac-spy.queue')
  mesh.declare('hmac-spy2.queue')
  const mgmtCalls = []
  const logs = { S: [], T: [] }
  const redisLog = []
  const peers = {}
  const stores = {}
  const base = { amqpHost: meshName, amqpPort: 5672, amqpUser: 'guest', amqpPassword: 'guest', amqpProtocol: 'memory' }
  const mk = async (name, queue, opts) => {
    const pr = propagationRedis(redisLog)
    const hmacCalls = []
    const hmacStore = recordingRedis('node-redis', hmacCalls)
    const auths = {}
    for (const track of opts.tracks) {
      const init = track === 'http' ? side.hmac.initializeHmacHttpAuth : side.hmac.initializeHmacMessageAuth
      auths[track] = init({ redis: hmacStore.client, namespace: track === 'http' ? 'hmacauth' : 'hmacmsg', secretToken: opts.secretToken })
    }
    const o = { ...base, amqpQueue: queue, propagationSecret: SECRETS[queue], redis: pr.client, logger: logger(logs[name]) }
    if (auths.http) o.hmacHttpAuth = auths.http
    if (auths.message) o.hmacMessageAuth = auths.message
    if (opts.management) o.management = management(mgmtCalls, opts.management)
    stores[name] = { pr, hmacStore, hmacCalls }
    peers[name] = await side.createPropagator(o)
  }
  const trace = []
  const wire = []
  const count = () => mgmtCalls.length + logs.S.length + logs.T.length + redisLog.length + stores.S.hmacCalls.length + (stores.T?.hmacCalls.length ?? 0) + wire.length
  try {
    await mk('S', 'src', { tracks: input.sTracks, management: input.sManagement ?? 'normal', secretToken: input.secretToken })
    await mk('T', 'tgt', { tracks: input.tTracks, management: input.tManagement, secretToken: input.secretToken })
  } catch (e) {
    return { made: errorOf(e) }
  }
  for (let i = 0; i < input.steps.length; i++) {
    const step = input.steps[i]
    let out
    try {
      switch (step.op) {
        case 'ensure':
        case 'rotate':
        case 'revoke':
        case 'sync':
          out = { ok: await peers.S[step.op](step.input) }
          if (step.op === 'sync' && out.ok) out.ok = { ...out.ok, durationMs: typeof out.ok.durationMs === 'number' ? '<ms>' : out.ok.durationMs }
          break
        case 'ack': {
          // The newest event per (client, track) sent to `spy`: an ACK of a superseded
          // event is dropped as unknown by authcore (docs/compat.md "Failed publish").
          const latest = new Map()
          for (const [q, e] of wire) if (q === 'hmac-spy.queue' && e?.op !== 'credential.ack') latest.set(`${e?.track}\n${e?.clientId}`, [q, e])
          const events = [...latest.values()]
          const target = events[step.index % Math.max(events.length, 1)]?.[1]
          const ack = {
            eventId: `ack-${i}`,
            ts: TS0 + i,
            propagationSecret: step.secret === 'right' ? SECRETS.src : 'nope',
            senderAmqpQueue: 'spy',
            op: 'credential.ack',
            ackEventId: step.unknown || !target ? 'no-such-event' : target.$eventId,
            ackResult: step.result,
            ackReason: step.reason,
          }
          mesh.inject('hmac-src.queue', Buffer.from(JSON.stringify(ack), 'utf8'))
          out = { ok: 'sent' }
          break
        }
        case 'apply':
          mesh.inject(step.to === 'S' ? 'hmac-src.queue' : 'hmac-tgt.queue', applyEventBytes(step.event, step.to === 'S' ? 'src' : 'tgt'))
          out = { ok: 'sent' }
          break
        default:
          throw new Error(`unknown step ${step.op}`)
      }
    } catch (e) {
      out = { error: errorOf(e) }
    }
    const spyDepth = () => (mesh.depth('hmac-spy.queue') ?? 0) + (mesh.depth('hmac-spy2.queue') ?? 0)
    if (mesh.inFlight) await settle(mesh.inFlight, `step ${i} (${step.op})`)
    else await quiesce(() => count() + spyDepth(), spyDepth, hints?.[i])
    const before = wire.length
    for (const q of ['hmac-spy.queue', 'hmac-spy2.queue']) {
      for (const bytes of mesh.take(q)) {
        let e
        try {
          e = JSON.parse(Buffer.from(bytes).toString('utf8'))
        } catch {
          e = { $raw: Buffer.from(bytes).toString('utf8') }
        }
        // The event as sent, plus its id for the harness's own ACKs (not compared).
        wire.push([q, e])
        Object.defineProperty(e, '$eventId', { value: e.eventId, enumerable: false })
      }
    }
    const calls = mgmtCalls.splice(0).map((c) => JSON.stringify(c)).sort().map((c) => JSON.parse(c))
    trace.push({
      step: step.op,
      out,
      management: calls,
      state: { S: stores.S.pr.state(), T: stores.T.pr.state() },
      creds: { S: credState(stores.S.hmacStore), T: credState(stores.T.hmacStore) },
      published: wire.length - before,
    })
  }
  for (const p of Object.values(peers)) await p.close()
  return normalize({ trace, wire, logs })
}

function credState(store) {
  const out = {}
  for (const ns of ['hmacauth', 'hmacmsg']) {
    for (const id of ['orders', 'billing', 'é-client']) {
      const v = store.hashValue(`${ns}:clients`, id)
      if (v !== null) out[`${ns}:${id}`] = v
    }
  }
  return out
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

/**
 * UUIDs named in a deterministic order (the wire first, in publish order, then the rest of the
 * outcome); times of this run (numbers or digit strings) `<now>`. The state's keys and set
 * members are sorted again after renaming (Redis has no order there).
 */
function normalize(outcome) {
  const now = Date.now()
  const isNow = (n) => n > now - 3_600_000 && n < now + 3_600_000
  const times = (v) => {
    if (typeof v === 'number') return isNow(v) ? '<now>' : v
    if (typeof v === 'string') {
      if (/^\d{13}$/.test(v) && isNow(Number(v))) return '<now>'
      return v.replace(/\b\d{13}\b/g, (d) => (isNow(Number(d)) ? '<now>' : d))
    }
    if (Array.isArray(v)) return v.map(times)
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, times(x)]))
    return v
  }
  const names = new Map()
  const name = (u) => {
    if (!names.has(u)) names.set(u, `<uuid#${names.size + 1}>`)
    return names.get(u)
  }
  for (const part of [outcome.wire, outcome.trace.map((t) => t.management), outcome.logs, outcome.trace]) {
    for (const u of JSON.stringify(part).match(UUID) ?? []) name(u)
  }
  const out = JSON.parse(JSON.stringify(times(outcome)).replace(UUID, name))
  const sortKeys = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  for (const t of out.trace) {
    for (const peer of Object.keys(t.state)) {
      const st = sortKeys(t.state[peer])
      for (const v of Object.values(st)) if (Array.isArray(v.value)) v.value.sort()
      t.state[peer] = st
    }
  }
  return out
}

// ------------------------------------------------------------------ generator

const IDS = ['orders', 'billing', 'é-client']

export function flowCase(r, id) {
  const input = {
    id,
    sTracks: r.chance(0.7) ? ['http'] : ['http', 'message'],
    tTracks: r.pick([['http'], ['http'], ['message']]),
    steps: [],
  }
  if (r.chance(0.3)) input.tManagement = r.pick(['normal', 'throws', 'empty'])
  if (r.chance(0.3)) input.secretToken = r.pick(['pepper', ''])
  if (r.chance(0.15)) input.sManagement = r.pick(['throws', 'empty'])
  const track = () => (input.sTracks.length > 1 && r.chance(0.3) ? 'message' : r.chance(0.8) ? undefined : r.pick(['http', 'message']))
  for (let n = r.int(3, 9); n > 0; n--) {
    const k = r.int(0, 9)
    const clientId = r.pick(IDS)
    if (k <= 1) {
      const e = { clientId, secret: r.pick(['plain-1', 'plain-2', 'é😀']), targets: r.pick([['spy'], ['spy', 'spy2'], ['spy2'], []]) }
      const t = track()
      if (t !== undefined) e.track = t
      if (r.chance(0.4)) e.allowedIps = r.pick([['10.0.0.0/8'], [], ['203.0.113.7', '2001:db8::/32']])
      if (r.chance(0.3)) e.expiresAt = r.pick([FAR, TS0])
      input.steps.push({ op: 'ensure', input: e })
      input.steps.push({ op: 'sync' })
    } else if (k === 2) {
      const e = { clientId, secret: r.pick(['rotated-1', 'rotated-2']) }
      const t = track()
      if (t !== undefined) e.track = t
      input.steps.push({ op: 'rotate', input: e })
      input.steps.push({ op: 'sync' })
    } else if (k === 3) {
      const e = { clientId, targets: r.pick([['spy'], ['spy', 'spy2']]) }
      const t = track()
      if (t !== undefined) e.track = t
      input.steps.push({ op: 'revoke', input: e })
      input.steps.push({ op: 'sync' })
    } else if (k === 4) {
      input.steps.push({ op: 'sync' })
    } else if (k <= 6) {
      input.steps.push({ op: 'ack', index: r.int(0, 3), result: r.pick(['applied', 'applied', 'error']), reason: r.pick([null, 'boom', 'no http auth instance configured']), secret: r.chance(0.85) ? 'right' : 'wrong', unknown: r.chance(0.1) })
    } else {
      const to = r.chance(0.75) ? 'T' : 'S'
      let event
      if (r.chance(0.12)) {
        event = { raw: r.pick(['not json', '[]', 'null', '{"eventId":"","ts":1}', '{"eventId":"x","ts":"1","propagationSecret":"s","senderAmqpQueue":"spy","op":"credential.create"}', '{"eventId":"x","ts":1,"propagationSecret":"secret-T","senderAmqpQueue":"spy","op":"credential.bogus"}']) }
      } else {
        event = {
          eventId: r.pick(['e-100', 'e-200', 'e-050']),
          ts: TS0 + r.pick([0, 0, 1, -1, 5]),
          secret: r.chance(0.85) ? 'right' : r.pick(['wrong', 'empty']),
          sender: r.chance(0.9) ? 'spy' : 'ghost',
          op: r.pick(['credential.create', 'credential.update', 'credential.delete']),
          track: r.chance(0.8) ? 'http' : 'message',
          clientId,
          secretHash: r.pick(['ab'.repeat(32), 'cd'.repeat(32)]),
        }
        if (r.chance(0.7)) event.allowedIps = r.pick([[], ['10.0.0.0/8'], ['203.0.113.7']])
        if (r.chance(0.5)) event.expiresAt = r.pick([null, FAR])
      }
      input.steps.push({ op: 'apply', to, event })
    }
  }
  return input
}
