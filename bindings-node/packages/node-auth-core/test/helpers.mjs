// Shared fixtures of the node-auth-core tests (real components only).
export const config = (over = {}) => ({
  accessTokenSecret: 'access-secret-for-tests',
  refreshTokenSecret: 'refresh-secret-for-tests',
  ...over,
})

export const user = { sub: 'u1', email: 'alice@example.com', role: 'user' }

/** An Express-like response that records cookie calls. */
export function mockRes() {
  const set = []
  const cleared = []
  return {
    set,
    cleared,
    cookie(name, value, opts) {
      set.push({ name, value, opts })
    },
    clearCookie(name, opts) {
      cleared.push({ name, opts })
    },
    named(n) {
      return set.find((c) => c.name === n)
    },
  }
}

export const nowS = () => Math.floor(Date.now() / 1000)

/** An in-memory IApiKeyStore recording calls. */
export function memoryKeyStore({ multi = false } = {}) {
  const rows = []
  const calls = { updateLastUsed: [], logUsage: [] }
  const store = {
    rows,
    calls,
    async save(r) {
      rows.push(r)
    },
    async findByPrefix(p) {
      const hits = rows.filter((r) => r.keyPrefix === p)
      if (multi) return hits
      return hits[0] ?? null
    },
    async findById(id) {
      return rows.find((r) => r.id === id) ?? null
    },
    async revoke(id) {
      const r = rows.find((x) => x.id === id)
      if (r) r.isActive = false
    },
    async updateLastUsed(id, at) {
      calls.updateLastUsed.push([id, at])
    },
  }
  return store
}
