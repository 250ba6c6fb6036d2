/**
 * A newcomer's first minutes, as the README tells them: `kouan start` (the platform with its simulator), read the
 * printed demo card's key file path, log in to the enterprise portal with that file alone, see the demo enterprise's
 * declarations, file a declaration of their own, and see an officer find it in the inspection queue. Nothing is set up
 * behind the newcomer's back: the accounts and the card are the ones `kouan start` printed.
 */
import assert from 'node:assert/strict'
import { existsSync, statSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import {
  startServer,
  tempDir,
  removeDir,
  launchBrowser,
  client,
  readJson,
  passwordToken,
  officerSignIn,
  screenshots,
  type Server,
} from './harness.js'

/** Waits until the server has printed a line matching `re`; returns the match. */
async function printed(server: Server, re: RegExp, timeoutMs = 120_000): Promise<RegExpExecArray> {
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await new Promise((r) => setTimeout(r, 250))) {
    const m = re.exec(server.output())
    if (m) return m
  }
  throw new Error(`not printed within ${timeoutMs} ms: ${re}\n${server.output()}`)
}

describe('a newcomer after `kouan start`', () => {
  let dir: string
  let server: Server
  let browser: Browser
  let keyFile: string
  let passwords: { admin: string; officer: string }
  let entryId: string
  const shot = screenshots('newcomer-')

  before(async () => {
    dir = tempDir()
    server = await startServer(dir, {
      command: 'start',
      env: { KOUAN_SIMULATE: 'true', KOUAN_SIMULATE_RATE: '2', KOUAN_SIMULATE_CEB_RATE: '1' },
    })
    const accounts = await printed(server, /Demo accounts\s+admin \/ (\S+)\s+officer \/ (\S+)/)
    passwords = { admin: accounts[1]!, officer: accounts[2]! }
    keyFile = (await printed(server, /key file (\S+demo-card\.json)/))[1]!
    browser = await launchBrowser()
  })

  after(async () => {
    await browser?.close()
    await server?.stop()
    if (dir) removeDir(dir)
  })

  it('the printed key file lies beside the data, readable by its owner only, and names its card', () => {
    assert.equal(keyFile, join(dir, 'data', 'demo-card.json'))
    assert.ok(existsSync(keyFile))
    assert.equal(statSync(keyFile).mode & 0o777, 0o600)
    const card = readJson<{ cardNo: string; alg: string }>(keyFile)
    assert.equal(card.alg, 'Ed25519')
    assert.match(server.output(), new RegExp(`Demo card\\s+${card.cardNo} of `))
  })

  it('logs in with the key file alone, sees the demo enterprise’s declarations, files one that an officer finds in the queue', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await ctx.newPage()
    await page.goto(`${server.url}/`)
    await page.waitForURL('**/login')
    await page.setInputFiles('input[name=keyFile]', keyFile)
    await page.click('form button[type=submit]')
    await page.waitForURL('**/portal/declarations')
    // The simulator has been declaring for the demo enterprise since the card was printed.
    await page.locator('tr[data-entry]').first().waitFor({ timeout: 60_000 })
    await shot(page, '01-portal-declarations')

    // Goods an active targeting rule sends to physical inspection: a line under value control, priced far below it.
    const api = client(server.url)
    const token = await passwordToken(server.url, 'officer', passwords.officer)
    let hs8: string | undefined
    for (let i = 0; !hs8 && i < 240; i++) {
      const rules = await api<{
        items: Array<{ name: string; active: boolean; conditions: Array<{ value: unknown }> }>
      }>('GET', '/api/v1/selectivity/rules', token)
      const rule = rules.items.find((r) => /-value-/.test(r.name) && r.active)
      hs8 = rule && (rule.conditions[0]!.value as string[])[0]
      if (!hs8) await new Promise((r) => setTimeout(r, 500))
    }
    assert.ok(hs8, 'the simulator installed its value-control rules')
    const line = await api<{ unit1: string; descriptionZh: string }>('GET', `/api/v1/reference/hs/${hs8}`)

    await page.getByRole('link', { name: '新建申报' }).first().click()
    await page.waitForURL('**/portal/new')
    await page.getByText('已载入卡密钥').waitFor()
    await page.fill('input[name=currency]', 'CNY')
    await page.fill('input[name=billNo]', 'COSU6200445566')
    await page.fill('input[name=packages]', '3')
    await page.fill('input[name=grossMassKg]', '1200')
    await page.fill('input[name=netMassKg]', '1100')
    await page.fill('input[name=hsCode-0]', `${hs8}00`)
    await page.fill('input[name=description-0]', line.descriptionZh.slice(0, 60))
    await page.fill('input[name=quantity-0]', '1000')
    await page.fill('input[name=unit-0]', line.unit1)
    await page.fill('input[name=unitPrice-0]', '0.01')
    await page.fill('input[name=originCountry-0]', 'KOR')
    await shot(page, '02-portal-new')
    await page.click('form button[type=submit].primary')
    await page.waitForURL(/\/portal\/declarations\/[0-9a-f-]{36}/)
    await page.locator('[data-testid=state]', { hasText: '查验中' }).waitFor()
    entryId = /(\d{18})/.exec((await page.textContent('h1')) ?? '')?.[1] ?? ''
    assert.match(entryId, /^\d{18}$/)
    await shot(page, '03-portal-declaration')

    const officer = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage()
    await officerSignIn(officer, server.url, 'officer', passwords.officer)
    await officer.getByRole('link', { name: '查验队列' }).click()
    await officer.waitForURL('**/officer/queue')
    const row = officer.locator(`tr[data-entry="${entryId}"]`)
    // The simulator's officers work the queue too; they need a moment, the row is there first.
    await row.waitFor()
    assert.match((await row.textContent()) ?? '', /实货查验/)
    await shot(officer, '04-officer-queue')
  })
})
