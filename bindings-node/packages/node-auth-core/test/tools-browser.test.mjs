// AuthTools' stream in a real browser: headless Chromium (Debian's `chromium`, driven by
// puppeteer-core) loads a page from the test server that opens an EventSource and renders the
// events it receives; the test reads them from the page. Revoking the session ends the stream
// with the revoking event, and the browser's reconnect is refused.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { existsSync } from 'node:fs'
import express from 'express'
import puppeteer from 'puppeteer-core'
import { AuthEventBus, AuthEventNames, AuthTools, createToolsRouter } from '@authcore/node-auth-core'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const PAGE = `<!DOCTYPE html><html><body><ul id="events"></ul><p id="state">init</p><script>
  const es = new EventSource('/tools/stream?token=' + encodeURIComponent(location.hash.slice(1)))
  const list = document.getElementById('events')
  const show = (e) => {
    const li = document.createElement('li')
    li.dataset.type = e.type
    li.dataset.id = e.lastEventId
    li.textContent = e.data
    list.appendChild(li)
  }
  for (const t of ['connected', 'identity.user.created', 'notification', 'identity.session.revoked']) es.addEventListener(t, show)
  es.onerror = () => { document.getElementById('state').textContent = 'error:' + es.readyState }
</script></body></html>`

test('headless Chromium EventSource renders tracked events; a revoked session ends the stream', async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is required at ${CHROMIUM} (scripts/node.sh installs Debian's chromium)`)
  const revoked = new Set()
  const tools = new AuthTools(new AuthEventBus(), { sse: true, sseOptions: { heartbeatIntervalMs: 0 } })
  const app = express()
  const auth = (req, res, next) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '')
    if (!token.startsWith('sess-') || revoked.has(token)) return res.status(401).json({ error: 'unauthorized' })
    req.user = { id: 'u1', tenantId: 't1', sid: token }
    next()
  }
  app.get('/', (_req, res) => res.type('html').send(PAGE))
  app.use('/tools', createToolsRouter(tools, { authMiddleware: auth }))
  const server = http.createServer(app)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${server.address().port}`
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  })
  const rendered = (page) => page.$$eval('#events li', (lis) => lis.map((li) => ({ type: li.dataset.type, id: li.dataset.id, data: JSON.parse(li.textContent) })))
  try {
    const page = await browser.newPage()
    await page.goto(`${base}/#sess-1`)
    await page.waitForSelector('#events li[data-type="connected"]', { timeout: 15000 })
    await tools.track('identity.user.created', { name: 'Ada' }, { userId: 'u1', tenantId: 't1', ip: '203.0.113.5' })
    await tools.notify('user:u1', { message: 'hello <b>browser</b>' })
    await page.waitForSelector('#events li[data-type="notification"]', { timeout: 10000 })
    const got = await rendered(page)
    assert.deepEqual(got.map((g) => g.type), ['connected', 'identity.user.created', 'notification'])
    assert.equal(got[1].id, got[1].data.id)
    assert.deepEqual(got[1].data.rawData.data, { name: 'Ada' })
    assert.equal(got[1].data.rawData.ip, undefined, 'client info is not streamed')
    assert.deepEqual(got[2].data.rawData, { message: 'hello <b>browser</b>' })
    // Revoke: the app marks the session revoked and tracks the event; the stream delivers it
    // and ends; EventSource's reconnect gets 401 and the browser gives up (readyState 2).
    revoked.add('sess-1')
    await tools.track(AuthEventNames.SESSION_REVOKED, {}, { userId: 'u1', sessionId: 'sess-1' })
    await page.waitForFunction(() => document.getElementById('state').textContent === 'error:2', { timeout: 15000 })
    const after = await rendered(page)
    assert.equal(after.at(-1).type, 'identity.session.revoked')
    assert.equal(after.length, 4)
    assert.equal(tools.sseManager.connectionCount, 0)
  } finally {
    await browser.close()
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
})
