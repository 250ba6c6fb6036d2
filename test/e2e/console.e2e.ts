/**
 * The console in a real browser, against a real server: an enterprise logs in with its port-card key file
 * and submits a signed declaration; an officer opens it from the queue and records a non-compliant result;
 * the dashboard (already open, fed by server-sent events) shows the change. Screenshots of every main
 * screen go to test-results/e2e/.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { ARTIFACTS, cli, client, launchBrowser, readJson, removeDir, startServer, tempDir, type Server } from './harness.js'

const PASSWORD = { admin: 'e2e-admin-password', officer1: 'e2e-officer-one', officer2: 'e2e-officer-two' }

describe('Kouan console, end to end', () => {
  let dir: string
  let server: Server
  let browser: Browser
  let keyFile: string
  let cardNo: string
  let entryId: string
  let declarationId: string
  let officerCtx: BrowserContext
  let dashboard: Page
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })

  before(async () => {
    dir = tempDir()
    for (const [u, role] of [['admin', 'admin'], ['officer1', 'officer'], ['officer2', 'officer']] as const) {
      cli(dir, ['user', 'add', u, '--role', role, '--password', PASSWORD[u]])
    }
    keyFile = join(dir, 'my-card.json')
    cli(dir, ['card', 'keygen', '-o', keyFile])
    server = await startServer(dir)
    const api = client(server.url)
    const login = async (u: keyof typeof PASSWORD) => (await api<{ token: string }>('POST', '/api/v1/auth/login', undefined, { username: u, password: PASSWORD[u] })).token
    const officer1 = await login('officer1')
    const officer2 = await login('officer2')
    // Customs registers the trader and issues its port card for the public key of the key file.
    const ent = await api<{ id: string }>('POST', '/api/v1/enterprises', officer1, { uscc: '91350100M000100Y43', customsCode: '4403960001', name: '深圳前海示范贸易有限公司', creditLevel: 'REGULAR', registeredDistrict: '5300' })
    const card = await api<{ cardNo: string }>('POST', '/api/v1/cards', officer1, { enterpriseId: ent.id, operatorName: '李雷', publicKey: readJson<{ publicKey: string }>(keyFile).publicKey })
    cardNo = card.cardNo
    // Smartphones go to a physical inspection (a rule authored by one officer, activated by another).
    const rule = await api<{ id: string }>('POST', '/api/v1/selectivity/rules', officer1, {
      name: 'phones-physical', description: '手机低报价格风险', conditions: [{ field: 'hsCode', op: 'prefix', value: ['8517'] }], action: { lane: 'RED', reason: '手机低报价格风险' },
    })
    await api('POST', `/api/v1/selectivity/rules/${rule.id}/activate`, officer2)
    browser = await launchBrowser()
  })

  after(async () => {
    await browser?.close()
    await server?.stop()
    if (dir) removeDir(dir)
  })

  it('an enterprise logs in with its key file and submits a signed declaration', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await ctx.newPage()
    await page.goto(`${server.url}/`)
    await page.waitForURL('**/login')
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN', 'Chinese by default')
    await page.fill('input[name=cardNo]', cardNo)
    await page.setInputFiles('input[name=keyFile]', keyFile)
    await shot(page, '01-login-card')
    await page.click('form button[type=submit]')
    await page.waitForURL('**/portal/declarations')
    await page.getByText('还没有报关单').waitFor()
    await shot(page, '02-portal-empty')

    await page.getByRole('link', { name: '新建申报' }).first().click()
    await page.waitForURL('**/portal/new')
    await page.getByText('已载入卡密钥').waitFor()
    await page.fill('input[name=billNo]', 'COSU6200112233')
    await page.fill('input[name=packages]', '20')
    await page.fill('input[name=grossMassKg]', '350.5')
    await page.fill('input[name=netMassKg]', '320')
    await page.fill('input[name=hsCode-0]', '8517130000')
    await page.fill('input[name=description-0]', '智能手机 Smartphones')
    await page.fill('input[name=quantity-0]', '200')
    await page.fill('input[name=unit-0]', '001')
    await page.fill('input[name=unitPrice-0]', '95.5')
    await page.fill('input[name=originCountry-0]', 'VNM')
    assert.equal(await page.textContent('[data-item="0"] output'), '19100.00', 'total = quantity × unit price, exactly')
    await shot(page, '03-portal-new-declaration')
    await page.click('form button[type=submit].primary')
    await page.waitForURL(/\/portal\/declarations\/[0-9a-f-]{36}/)
    declarationId = page.url().split('/').pop()!.split('?')[0]!
    await page.locator('[data-testid=state]').waitFor()
    const title = await page.textContent('h1')
    entryId = /(\d{18})/.exec(title ?? '')?.[1] ?? ''
    assert.match(entryId, /^5301\d{4}1\d{9}$/, `entry number in "${title}"`)
    assert.equal(await page.textContent('[data-testid=state]'), '查验中')
    await shot(page, '04-portal-declaration')
    await page.getByRole('link', { name: '我的报关单' }).click()
    await page.locator(`tr[data-entry="${entryId}"]`).waitFor()
    await shot(page, '05-portal-list')
    await ctx.close()
  })

  it('an officer sees the dashboard, opens the declaration from the queue and records a non-compliant result; the dashboard shows it live', async () => {
    officerCtx = await browser.newContext({ viewport: { width: 1600, height: 1000 } })
    dashboard = await officerCtx.newPage()
    await dashboard.goto(`${server.url}/login`)
    await dashboard.getByRole('tab', { name: '海关关员' }).click()
    await dashboard.fill('input[name=username]', 'officer1')
    await dashboard.fill('input[name=password]', PASSWORD.officer1)
    await dashboard.click('form button[type=submit]')
    await dashboard.waitForURL('**/officer/dashboard')
    await dashboard.locator('.dash[data-ready=true]').waitFor()
    assert.equal((await dashboard.textContent('[data-kpi=today] .kpi-value'))?.trim(), '1')
    assert.equal((await dashboard.textContent('[data-kpi=findings] .kpi-value'))?.trim(), '0 / 0')
    assert.equal((await dashboard.textContent('[data-kpi=intercepts] .kpi-value'))?.trim(), '1')

    // The officer works in a second tab; the dashboard stays open.
    const page = await officerCtx.newPage()
    await page.goto(`${server.url}/officer/queue`)
    const row = page.locator(`tr[data-entry="${entryId}"]`)
    await row.waitFor()
    assert.match((await row.textContent()) ?? '', /高.*实货查验.*规则/)
    await shot(page, '07-officer-queue')
    await row.getByRole('link', { name: entryId }).click()
    await page.waitForURL(`**/officer/declarations/${declarationId}`)
    await page.getByText('布控规则命中').first().waitFor()
    assert.match((await page.textContent('.reasons-list')) ?? '', /phones-physical: 手机低报价格风险/)
    await page.getByText('深圳前海示范贸易有限公司').first().waitFor()
    await shot(page, '08-officer-declaration')

    await page.getByLabel('查获违规').check()
    await page.getByLabel('问题类别').selectOption('UNDERVALUATION')
    await page.getByLabel('说明', { exact: true }).fill('单价明显低于同类商品')
    await page.getByLabel('处置方式').selectOption('TECHNICAL_TREATMENT')
    await shot(page, '09-officer-record-result')
    await page.getByRole('button', { name: '提交结果' }).click()
    await page.locator('[data-testid=state]', { hasText: '扣留' }).waitFor()
    assert.match((await page.textContent('.inspections')) ?? '', /查获违规.*低报价格.*技术处理/)
    assert.match((await page.textContent('table.audit')) ?? '', /INSPECTION_RESULT|DETAINED/)
    await shot(page, '10-officer-declaration-detained')

    // The dashboard tab got the change by server-sent events, without a reload.
    await dashboard.locator(`.results li.bad[data-entry="${entryId}"]`).waitFor()
    assert.equal((await dashboard.textContent('[data-kpi=findings] .kpi-value'))?.trim(), '1 / 1')
    assert.equal((await dashboard.textContent('[data-kpi=open] .kpi-value'))?.trim(), '0')
    await shot(dashboard, '06-dashboard')
  })

  it('the rules editor previews a rule on past declarations, and model versions are listed', async () => {
    const page = await officerCtx.newPage()
    await page.goto(`${server.url}/officer/rules`)
    await page.getByText('phones-physical').waitFor()
    await page.getByRole('button', { name: '预览效果' }).click()
    const preview = page.locator('[data-testid=preview]')
    await preview.waitFor()
    assert.match((await preview.textContent()) ?? '', /1 票报关单中，将选中 1 票（100\.0%）.*查获 1 票，命中率 100\.0%/)
    await shot(page, '11-officer-rules')
    await page.goto(`${server.url}/officer/models`)
    await page.locator('main .state, main table').first().waitFor()
    await shot(page, '12-officer-models')
  })

  it('switches to English and stays usable from the keyboard', async () => {
    await dashboard.bringToFront()
    await dashboard.getByRole('button', { name: '切换语言' }).click()
    await dashboard.getByRole('heading', { name: 'Integrated monitoring command view' }).waitFor()
    assert.equal(await dashboard.getAttribute('html', 'lang'), 'en')
    await shot(dashboard, '13-dashboard-en')
    // Keyboard: from the top of the page the first Tab reaches the skip link, Enter moves focus to the main content.
    await dashboard.reload()
    await dashboard.locator('.dash[data-ready=true]').waitFor()
    await dashboard.keyboard.press('Tab')
    assert.equal(await dashboard.evaluate(() => document.activeElement?.textContent), 'Skip to main content')
    await dashboard.keyboard.press('Enter')
    assert.equal(await dashboard.evaluate(() => document.activeElement?.id), 'main')
    await dashboard.getByRole('button', { name: 'Switch language' }).click()
    await officerCtx.close()
  })
})
