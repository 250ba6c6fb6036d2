/**
 * The console in a real browser, against a real server: an enterprise logs in with its port-card key file
 * and submits a signed declaration; an officer opens it from the queue and records a non-compliant result;
 * the dashboard (already open, fed by server-sent events) shows the change; a compliant check of quarantine
 * goods issues a certificate whose QR URL verifies as authentic, and as tampered once altered. Screenshots of
 * every main screen go to test-results/e2e/.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import {
  cli,
  startServer,
  tempDir,
  removeDir,
  launchBrowser,
  client,
  readJson,
  PASSWORD,
  USERS,
  addUsers,
  passwordToken,
  officerSignIn,
  screenshots,
  type Server,
} from './harness.js'

interface ItemInput {
  hs: string
  desc: string
  qty: string
  unit: string
  price: string
  origin: string
}

describe('Kouan console, end to end', () => {
  let dir: string
  let server: Server
  let browser: Browser
  let keyFile: string
  let cardNo: string
  let entryId: string
  let declarationId: string
  let portal: Page
  let officerCtx: BrowserContext
  let dashboard: Page
  const shot = screenshots('')

  /** Fills the portal's declaration form with one item; returns the total the form computed. */
  const fillDeclaration = async (page: Page, item: ItemInput) => {
    await page.getByRole('link', { name: '新建申报' }).first().click()
    await page.waitForURL('**/portal/new')
    await page.getByText('已载入卡密钥').waitFor()
    await page.fill('input[name=billNo]', 'COSU6200112233')
    await page.fill('input[name=packages]', '20')
    await page.fill('input[name=grossMassKg]', '350.5')
    await page.fill('input[name=netMassKg]', '320')
    await page.fill('input[name=hsCode-0]', item.hs)
    await page.fill('input[name=description-0]', item.desc)
    await page.fill('input[name=quantity-0]', item.qty)
    await page.fill('input[name=unit-0]', item.unit)
    await page.fill('input[name=unitPrice-0]', item.price)
    await page.fill('input[name=originCountry-0]', item.origin)
    return page.textContent('[data-item="0"] output')
  }
  /** Signs and submits the filled form; returns the new declaration's id and entry number. */
  const submitDeclaration = async (page: Page) => {
    await page.click('form button[type=submit].primary')
    await page.waitForURL(/\/portal\/declarations\/[0-9a-f-]{36}/)
    const id = page.url().split('/').pop()!.split('?')[0]!
    await page.locator('[data-testid=state]').waitFor()
    const title = (await page.textContent('h1')) ?? ''
    return { id, entryId: /(\d{18})/.exec(title)?.[1] ?? title }
  }

  before(async () => {
    dir = tempDir()
    addUsers(dir, USERS)
    keyFile = join(dir, 'my-card.json')
    cli(dir, ['card', 'keygen', '-o', keyFile])
    server = await startServer(dir)
    const api = client(server.url)
    const login = (u: keyof typeof PASSWORD) => passwordToken(server.url, u, PASSWORD[u])
    const officer1 = await login('officer1')
    const officer2 = await login('officer2')
    // Customs registers the trader and issues its port card for the public key of the key file.
    const ent = await api<{ id: string }>('POST', '/api/v1/enterprises', officer1, {
      uscc: '91350100M000100Y43',
      customsCode: '4403960001',
      name: '深圳前海示范贸易有限公司',
      creditLevel: 'REGULAR',
      registeredDistrict: '5300',
    })
    const card = await api<{ cardNo: string }>('POST', '/api/v1/cards', officer1, {
      enterpriseId: ent.id,
      operatorName: '李雷',
      publicKey: readJson<{ publicKey: string }>(keyFile).publicKey,
    })
    cardNo = card.cardNo
    // Targeting rules, each authored by one officer and activated by another: smartphones get a physical
    // inspection; fresh apples (plant products, quarantine goods) a document check, which certifies them.
    for (const [name, hs, lane, reason] of [
      ['phones-physical', '8517', 'RED', '手机低报价格风险'],
      ['apples-documents', '0808', 'YELLOW', '植物检疫单证审核'],
    ] as const) {
      const rule = await api<{ id: string }>('POST', '/api/v1/selectivity/rules', officer1, {
        name,
        description: reason,
        conditions: [{ field: 'hsCode', op: 'prefix', value: [hs] }],
        action: { lane, reason },
      })
      await api('POST', `/api/v1/selectivity/rules/${rule.id}/activate`, officer2)
    }
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

    const total = await fillDeclaration(page, {
      hs: '8517130000',
      desc: '智能手机 Smartphones',
      qty: '200',
      unit: '001',
      price: '95.5',
      origin: 'VNM',
    })
    assert.equal(total, '19100.00', 'total = quantity × unit price, exactly')
    await shot(page, '03-portal-new-declaration')
    ;({ id: declarationId, entryId } = await submitDeclaration(page))
    assert.match(entryId, /^5301\d{4}1\d{9}$/, 'an 18-digit import entry number')
    assert.equal(await page.textContent('[data-testid=state]'), '查验中')
    assert.equal(await page.locator('.reasons-list').count(), 0, 'the trader sees its lane, not the targeting reasons')
    await shot(page, '04-portal-declaration')
    await page.getByRole('link', { name: '我的报关单' }).click()
    await page.locator(`tr[data-entry="${entryId}"]`).waitFor()
    await shot(page, '05-portal-list')
    portal = page // kept open: the card key lives in this page's memory only
  })

  it('an officer sees the dashboard, opens the declaration from the queue and records a non-compliant result; the dashboard shows it live', async () => {
    officerCtx = await browser.newContext({ viewport: { width: 1600, height: 1000 } })
    dashboard = await officerCtx.newPage()
    await officerSignIn(dashboard, server.url, 'officer1', PASSWORD.officer1)
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
    assert.match((await page.textContent('table.audit')) ?? '', /user:officer1→ 扣留/)
    await shot(page, '10-officer-declaration-detained')
    await page.close()

    // The dashboard tab got the change by server-sent events, without a reload.
    await dashboard.locator(`.results li.bad[data-entry="${entryId}"]`).waitFor()
    assert.equal((await dashboard.textContent('[data-kpi=findings] .kpi-value'))?.trim(), '1 / 1')
    assert.equal((await dashboard.textContent('[data-kpi=open] .kpi-value'))?.trim(), '0')
    await shot(dashboard, '06-dashboard')
  })

  it('the rules editor previews a rule on past declarations, and model versions are listed', async () => {
    const page = await officerCtx.newPage()
    await page.goto(`${server.url}/officer/rules`)
    await page.getByText('phones-physical').first().waitFor()
    await page.getByRole('button', { name: '预览效果' }).click()
    const preview = page.locator('[data-testid=preview]')
    await preview.waitFor()
    assert.match((await preview.textContent()) ?? '', /1 票报关单中，将选中 1 票（100\.0%）.*查获 1 票，命中率 100\.0%/)
    await shot(page, '11-officer-rules')
    await page.goto(`${server.url}/officer/models`)
    await page.locator('main .state, main table').first().waitFor()
    await shot(page, '12-officer-models')
    await page.close()
  })

  it('a compliant check of quarantine goods issues a certificate: its QR URL verifies as authentic, a tampered one as tampered; the archive prints', async () => {
    // The enterprise declares fresh apples in the portal (same page: the card key is still loaded).
    await fillDeclaration(portal, {
      hs: '0808100000',
      desc: '鲜苹果 Fresh apples',
      qty: '12000',
      unit: '035',
      price: '1.25',
      origin: 'NZL',
    })
    const apples = await submitDeclaration(portal)
    // The officer passes the document check from the queue.
    const page = await officerCtx.newPage()
    await page.goto(`${server.url}/officer/queue`)
    await page.locator(`tr[data-entry="${apples.entryId}"]`).getByRole('link').click()
    await page.waitForURL(`**/officer/declarations/${apples.id}`)
    await page.getByLabel('未见异常').check()
    await page.getByRole('button', { name: '提交结果' }).click()
    await page.locator('[data-testid=state]', { hasText: '已结关' }).waitFor()
    const certItem = page.locator('li[data-certificate]')
    await certItem.waitFor()
    const number = (await certItem.getAttribute('data-certificate'))!
    await shot(page, '14-officer-declaration-certified')
    await page.close()

    // The enterprise sees it in the portal, with its QR verification link.
    await portal.getByRole('link', { name: '检验检疫证书' }).click()
    const row = portal.locator(`tr[data-certificate="${number}"]`)
    await row.waitFor()
    const verifyUrl = (await row.locator('a.verify-link').getAttribute('href'))!
    assert.ok(verifyUrl.startsWith(`${server.url}/verify/K1.C.`), verifyUrl)
    await shot(portal, '15-portal-certificates')

    // A buyer scans the QR code with a phone: the server's verify page.
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    })
    const scan = await phone.newPage()
    const ok = await scan.goto(verifyUrl)
    assert.equal(ok?.headers()['x-kouan-verdict'], 'AUTHENTIC')
    await scan.getByText('真实有效').first().waitFor()
    await shot(scan, '16-verify-authentic-phone')
    // One character of the content digest changed: the signature no longer matches.
    const parts = verifyUrl.split('/verify/')[1]!.split('.')
    parts[3] = (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1)
    const tampered = `${server.url}/verify/${parts.join('.')}`
    const bad = await scan.goto(tampered)
    assert.equal(bad?.headers()['x-kouan-verdict'], 'TAMPERED')
    await scan.getByText('内容或签名不符').first().waitFor()
    await shot(scan, '17-verify-tampered-phone')
    // The console's own check page (paste the link) says the same.
    await scan.goto(`${server.url}/check`)
    await scan.fill('input[name=token]', tampered)
    await scan.getByRole('button', { name: '查验', exact: true }).click()
    await scan.locator('[data-verdict=TAMPERED]').waitFor()
    await shot(scan, '18-check-tampered-phone')
    await scan.fill('input[name=token]', verifyUrl)
    await scan.getByRole('button', { name: '查验', exact: true }).click()
    await scan.locator('[data-verdict=AUTHENTIC]').waitFor()
    assert.match((await scan.textContent('[data-verdict=AUTHENTIC]')) ?? '', new RegExp(number))
    await shot(scan, '19-check-authentic-phone')
    await phone.close()

    // Cleared at release (general trade): the archive is there for self-service printing and export.
    await portal.getByRole('link', { name: '档案自助查询' }).click()
    const archived = portal.locator(`tr[data-entry="${apples.entryId}"]`)
    await archived.waitFor()
    const [print] = await Promise.all([
      portal.waitForResponse((r) => r.url().endsWith(`/api/v1/archives/${apples.entryId}/print`)),
      archived.getByRole('button', { name: '打印' }).click(),
    ])
    assert.equal(print.status(), 200)
    assert.equal(print.headers()['content-type'], 'application/pdf')
    const [csv] = await Promise.all([
      portal.waitForEvent('download'),
      portal.getByRole('button', { name: '导出 CSV' }).click(),
    ])
    assert.equal(csv.suggestedFilename(), 'archives.csv')
    await shot(portal, '20-portal-archives')
  })

  it('switches to English and stays usable from the keyboard', async () => {
    await dashboard.bringToFront()
    await dashboard.getByRole('button', { name: '切换语言' }).click()
    await dashboard.getByRole('heading', { name: 'Integrated monitoring command view' }).waitFor()
    assert.equal(await dashboard.getAttribute('html', 'lang'), 'en')
    await shot(dashboard, '13-dashboard-en')
    // Keyboard: from the top of a fresh page the first Tab reaches the skip link, Enter moves focus to the main content.
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
