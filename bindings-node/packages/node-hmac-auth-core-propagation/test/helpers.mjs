// Test helpers: an in-memory management adapter that keeps the contract of the original's
// SQL adapters (spec §2.4 and §4: Tables 1-3, publish-once; the same semantics as
// core/tests/support/propagation.rs `MemoryManagement`), a capturing logger, polling,
// and broker/Redis housekeeping. RabbitMQ (127.0.0.1:5672, guest/guest, vhost
// hmac-credentials) and Redis (127.0.0.1:6379) must be up: `bash scripts/services.sh`.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

export const AMQP = {
  amqpHost: '127.0.0.1',
  amqpPort: 5672,
  amqpUser: 'guest',
  amqpPassword: 'guest',
  amqpProtocol: 'amqp',
}
export const REDIS_HOST = '127.0.0.1:6379'
export const VHOST = 'hmac-credentials'

/** A suffix unique to this test run (queue names, client ids, namespaces). */
export function runSuffix() {
  return `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`
}

/** The POC adapter's behaviour, in memory. `fail = { name, error }` makes that callback throw `error`. */
export class MemoryManagement {
  constructor(directory = {}) {
    /** Table 1: clientId -> { track, secretPlain, allowedIps, expiresAt, fresh } */
    this.credentials = new Map()
    /** Table 2: target -> its env secret */
    this.directory = new Map(Object.entries(directory))
    /** Table 3: `${clientId} ${target}` -> status */
    this.status = new Map()
    this.reasons = new Map()
    this.fully = []
    /** [name, input] of every call, in order */
    this.calls = []
    this.fail = null
  }

  enter(name, input) {
    this.calls.push([name, input])
    if (this.fail && this.fail.name === name) throw this.fail.error
  }

  callsOf(name) {
    return this.calls.filter(([n]) => n === name).map(([, input]) => input)
  }

  statusOf(clientId, target) {
    return this.status.get(`${clientId} ${target}`)
  }

  async upsertCredentialWithTargets(i) {
    this.enter('upsertCredentialWithTargets', i)
    const fresh = !this.credentials.has(i.clientId)
    this.credentials.set(i.clientId, {
      track: i.track,
      secretPlain: i.secretPlain,
      allowedIps: i.allowedIps,
      expiresAt: i.expiresAt ?? null,
      fresh,
    })
    for (const t of i.targets) this.status.set(`${i.clientId} ${t}`, 'pending')
  }

  async rotateCredentialSecret(i) {
    this.enter('rotateCredentialSecret', i)
    const c = this.credentials.get(i.clientId)
    if (c) {
      c.secretPlain = i.secretPlain
      c.fresh = false
    }
    for (const key of this.status.keys()) {
      if (key.startsWith(`${i.clientId} `)) this.status.set(key, 'pending')
    }
  }

  async fetchPendingPropagations() {
    this.enter('fetchPendingPropagations', undefined)
    const out = []
    for (const [key, st] of this.status) {
      if (st !== 'pending') continue
      const [clientId, target] = key.split(' ')
      const c = this.credentials.get(clientId)
      const op = c.secretPlain === null ? 'credential.delete' : c.fresh ? 'credential.create' : 'credential.update'
      const t = { targetAmqpQueue: target, propagationSecret: this.directory.get(target) ?? '' }
      const entry = out.find((p) => p.clientId === clientId)
      if (entry) entry.pendingTargets.push(t)
      else {
        const p = { clientId, track: c.track, op, secretPlain: c.secretPlain, expiresAt: c.expiresAt, pendingTargets: [t] }
        if (c.allowedIps !== undefined) p.allowedIps = c.allowedIps
        out.push(p)
      }
    }
    return out
  }

  async fetchSourcePropagationSecret(q) {
    this.enter('fetchSourcePropagationSecret', q)
    return this.directory.get(q) ?? null
  }

  async markTargetSent(i) {
    this.enter('markTargetSent', i)
    this.status.set(`${i.clientId} ${i.targetAmqpQueue}`, 'sent')
  }

  async markTargetSuccess(i) {
    this.enter('markTargetSuccess', i)
    this.status.set(`${i.clientId} ${i.targetAmqpQueue}`, 'success')
  }

  async markTargetError(i) {
    this.enter('markTargetError', i)
    this.status.set(`${i.clientId} ${i.targetAmqpQueue}`, 'error')
    this.reasons.set(`${i.clientId} ${i.targetAmqpQueue}`, i.reason)
  }

  async markCredentialFullyPropagated(i) {
    this.enter('markCredentialFullyPropagated', i)
    const c = this.credentials.get(i.clientId)
    if (c) c.secretPlain = null
    this.fully.push(i)
  }
}

/** A `{info, warn, error}` logger keeping `"<level> <line>"`. */
export function captureLogger() {
  const lines = []
  const push = (level) => (...args) => lines.push(`${level} ${args.map(String).join(' ')}`)
  return { lines, logger: { info: push('info'), warn: push('warn'), error: push('error') } }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Polls `cond` every 20 ms; throws after `ms`. */
export async function waitFor(what, cond, ms = 8000) {
  const deadline = Date.now() + ms
  for (;;) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

const run = promisify(execFile)

/** `rabbitmqctl list_queues` rows of the vhost: name -> { messages, consumers, durable, arguments }. */
export async function listQueues() {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_queues', '-p', VHOST, '--no-table-headers', 'name', 'messages', 'consumers', 'durable', 'arguments'])
  const rows = new Map()
  for (const line of stdout.split('\n')) {
    const [name, messages, consumers, durable, args] = line.split('\t')
    if (name) rows.set(name, { messages: Number(messages), consumers: Number(consumers), durable: durable === 'true', arguments: args })
  }
  return rows
}

/** Deletes the queues (best effort, in parallel). */
export async function deleteQueues(names) {
  await Promise.allSettled(names.map((q) => run('rabbitmqctl', ['-q', 'delete_queue', '-p', VHOST, q])))
}

/** Deletes every key of `client` (a node-redis client) matching `pattern`. */
export async function deleteKeys(client, pattern) {
  const keys = []
  for await (const key of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) keys.push(key)
  if (keys.length) await client.del(keys)
}
