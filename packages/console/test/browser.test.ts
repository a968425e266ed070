import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFullApp, opsAdmin, openConnection, target } from './helpers.js'

const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
// The README's picture: rewritten only when asked (UPDATE_SCREENSHOT=1), so a test run leaves the tree clean.
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1' ? fileURLToPath(new URL('../docs/screenshot.png', import.meta.url)) : undefined
if (!hasChromium) console.warn(`@opskit/console browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`)

describe.skipIf(!hasChromium)(`the ops console in Chromium (audit and security events in ${target})`, () => {
  let db: Awaited<ReturnType<typeof openConnection>>
  let app: FastifyInstance
  let origin: string
  let profile: string
  let context: BrowserContext
  const requested: string[] = []
  const consoleErrors: string[] = []

  beforeAll(async () => {
    db = await openConnection()
    app = await buildFullApp({ connection: db.connection, console: { refreshMs: 1000, title: 'bookings' } })
    origin = await app.listen({ host: '127.0.0.1', port: 0 })
    profile = await mkdtemp(join(tmpdir(), 'opskit-console-chromium-'))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
      viewport: { width: 1280, height: 900 },
      extraHTTPHeaders: opsAdmin,
    })
    context.on('request', (request) => requested.push(request.url()))
    context.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
  })
  afterAll(async () => {
    await context?.close()
    await app?.close()
    await db?.close()
    if (profile !== undefined) await rm(profile, { recursive: true, force: true })
  })

  async function open(): Promise<Page> {
    const page = await context.newPage()
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`))
    const res = await page.goto(`${origin}/ops`)
    expect(res?.status()).toBe(200)
    return page
  }

  it('shows health, traffic, the audit row written just before and filtered security events, asking only its own origin', async () => {
    // What a person did just before opening the console.
    const booking = await fetch(`${origin}/bookings`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'u-staff' }, body: JSON.stringify({ guest: 'Ada' }) })
    const { id: bookingId } = (await booking.json()) as { id: string }
    for (let i = 0; i < 6; i++) await fetch(`${origin}/hello`)
    await fetch(`${origin}/slow?ms=120`)
    await fetch(`${origin}/boom`)
    for (let i = 0; i < 3; i++) await fetch(`${origin}/limited`)
    await fetch(`${origin}/ops`, { headers: { 'x-user': 'mallory' } }) // 403: authz_denied
    await fetch(`${origin}/ops`) // 401: token_invalid
    await app.securityLog.flush()

    const page = await open()

    const health = page.locator('#health-rows')
    await expect.poll(() => health.innerText()).toContain('db')
    expect(await health.innerText()).toContain('cache is down')
    await expect.poll(() => page.locator('#health-status').innerText()).toBe('degraded')

    await expect.poll(() => page.locator('#routes-rows').innerText()).toContain('GET /hello')
    expect(await page.locator('#chart-requests svg rect').count()).toBeGreaterThan(0)
    await expect.poll(() => page.locator('#slowest-rows').innerText()).toContain('GET /slow')
    await expect.poll(() => page.locator('#rate-rows').innerText()).toContain('/limited')
    await expect.poll(() => page.locator('#gauge-list').innerText()).toContain('bookings_pending')

    const auditRows = page.locator('#audit-rows')
    await expect.poll(() => auditRows.innerText()).toContain(bookingId)
    expect(await auditRows.innerText()).toContain('u-staff')

    // Sorting the route table by requests, ascending, puts the busiest route last.
    await page.locator('#routes th[data-key="requests"]').click()
    const firstRoute = await page.locator('#routes-rows tr').first().innerText()
    expect(firstRoute).not.toContain('/hello')

    const security = page.locator('#securityEvents')
    await expect.poll(() => security.locator('tbody').innerText()).toContain('token_invalid')
    await security.locator('input[name="action"]').fill('authz_denied')
    await security.locator('button[type="submit"]').click()
    await expect.poll(async () => {
      const actions = await security.locator('tbody tr td:nth-child(3)').allInnerTexts()
      return actions.length > 0 && actions.every((action) => action === 'authz_denied')
    }).toBe(true)
    expect(await security.locator('tbody').innerText()).toContain('mallory')
    await expect.poll(() => security.locator('.pager span').innerText()).toMatch(/^1–\d+ of \d+$/)

    // It keeps refreshing by itself: a request made now shows up without a reload.
    for (let i = 0; i < 4; i++) await fetch(`${origin}/boom`)
    await expect.poll(() => page.locator('#routes-rows').innerText(), { timeout: 10_000 }).toMatch(/GET \/boom\s+5\s+5/)

    const picture = await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(picture.length).toBeGreaterThan(10_000)

    expect(consoleErrors).toEqual([])
    expect(requested.length).toBeGreaterThan(5)
    expect(requested.filter((url) => new URL(url).origin !== origin)).toEqual([])
    await page.close()
  })

  it('reads on a phone: nothing wider than the screen', async () => {
    const page = await open()
    await page.setViewportSize({ width: 390, height: 844 })
    await expect.poll(() => page.locator('#health-rows').innerText()).toContain('db')
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')
    expect(overflow).toBeLessThanOrEqual(0)
    expect(consoleErrors).toEqual([])
    await page.close()
  })
})
