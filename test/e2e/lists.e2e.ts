/**
 * The officers' lists in a real browser, against a real server: what people did earlier is set up through the API
 * and the CLI (an enterprise with a port card, a compliant check of frozen chicken feet that issued a certificate and
 * archived the declaration, CEB tickets sent as signed XML by their five parties). Then an officer re-issues and
 * revokes the certificate, prints the archive and finds the print in the log, watches the e-commerce operations view
 * and opens a ticket's four documents and receipts; the enterprise sees its tickets and their receipts in the portal.
 * Screenshots: test-results/e2e/lists-<screen>.png.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { seededRandom } from '../../src/shared/clock.js'
import { ed25519, signPayload } from '../../src/shared/signing.js'
import { withUsccCheck } from '../../src/shared/uscc.js'
import {
  SIGNATURE_HEADER,
  baseTransferFor,
  generateTicket,
  parseCebXml,
  ticketDocuments,
  toMessageXml,
  xmlSignatureHeader,
  type CebMessageType,
} from '../../src/modules/ecommerce/index.js'
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
  cardToken,
  officerSignIn,
  screenshots,
  type Server,
} from './harness.js'

const A_CODE = '4403960101'
const CHICKEN_FEET = {
  hsCode: '0207142200',
  description: '冷冻鸡爪 Frozen chicken feet',
  quantity: '12000',
  unit: '035',
  unitPrice: '2.1',
  totalValue: '25200.00',
  originCountry: 'RUS',
}
const chinaToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)

describe('Officer lists and the portal receipts, end to end', () => {
  let dir: string
  let server: Server
  let browser: Browser
  let keyFile: string
  let cardNo: string
  let certNumber: string
  let entryId: string
  const orders: { released: string[]; returned: string; waiting: string } = { released: [], returned: '', waiting: '' }
  let officerCtx: BrowserContext
  let page: Page
  const shot = screenshots('lists-')

  before(async () => {
    dir = tempDir()
    addUsers(dir, USERS)
    keyFile = join(dir, 'enterprise-card.json')
    cli(dir, ['card', 'keygen', '-o', keyFile])
    server = await startServer(dir)
    const api = client(server.url)
    const login = (u: keyof typeof PASSWORD) => passwordToken(server.url, u, PASSWORD[u])
    const [admin, officer1, officer2] = [await login('admin'), await login('officer1'), await login('officer2')]
    // No random control picks, so lanes follow the rules; poultry goes to inspection (four eyes on the rule).
    const { params } = await api<{ params: Record<string, unknown> }>('GET', '/api/v1/selectivity/params', admin)
    await api('PUT', '/api/v1/selectivity/params', admin, {
      params: { ...params, minRandomRate: 0, explorationRate: 0 },
    })
    const rule = await api<{ id: string }>('POST', '/api/v1/selectivity/rules', officer1, {
      name: 'poultry-red',
      description: '禽肉产品检疫',
      conditions: [{ field: 'hsCode', op: 'prefix', value: ['0207'] }],
      action: { lane: 'RED', reason: '禽肉产品检疫' },
    })
    await api('POST', `/api/v1/selectivity/rules/${rule.id}/activate`, officer2)

    // The enterprise and its port card (the key file stays with the enterprise).
    const key = readJson<{ publicKey: string; privateKey: string }>(keyFile)
    const ent = await api<{ id: string }>('POST', '/api/v1/enterprises', officer1, {
      uscc: '91350100M000100Y43',
      customsCode: A_CODE,
      name: '海南示范跨境贸易有限公司',
      creditLevel: 'REGULAR',
      registeredDistrict: '6400',
    })
    cardNo = (
      await api<{ cardNo: string }>('POST', '/api/v1/cards', officer1, {
        enterpriseId: ent.id,
        operatorName: '韩梅梅',
        publicKey: key.publicKey,
      })
    ).cardNo
    const cardSession = (no: string, privateKey: string) => cardToken(server.url, no, privateKey)
    const tokenA = await cardSession(cardNo, key.privateKey)

    // The enterprise declared frozen chicken feet; the officer found them compliant: certificate, then the archive.
    const content = {
      clientRef: `LISTS-${Date.now()}`,
      ieFlag: 'I',
      customsDistrict: '5301',
      iePort: '5302',
      tradeMode: '0110',
      transportMode: '2',
      transactionTerms: '1',
      currency: 'USD',
      traderCode: A_CODE,
      declarantCode: A_CODE,
      tradeCountry: 'RUS',
      billNo: 'COSU6200998877',
      packages: 10,
      grossMassKg: '12500.5',
      netMassKg: '12000',
      items: [CHICKEN_FEET],
    }
    const decl = await api<{ id: string; state: string; entryId: string }>('POST', '/api/v1/declarations', tokenA, {
      ...content,
      signature: { cardNo, alg: 'Ed25519', value: signPayload(key.privateKey, content) },
    })
    assert.equal(decl.state, 'INSPECTING')
    entryId = decl.entryId
    const [task] = (
      await api<{ items: Array<{ id: string }> }>('GET', `/api/v1/inspections?declarationId=${decl.id}`, officer1)
    ).items
    await api('POST', `/api/v1/inspections/${task!.id}/result`, officer1, { result: 'COMPLIANT' })
    const [cert] = (
      await api<{ items: Array<{ number: string }> }>('GET', `/api/v1/certificates?declarationId=${decl.id}`, officer1)
    ).items
    certNumber = cert!.number
    // Archiving follows clearance after the commit: wait until the archive is there.
    for (let i = 0; ; i++) {
      const r = await api<{ total: number }>('GET', `/api/v1/archives?entryId=${entryId}`, officer1)
      if (r.total === 1) break
      if (i > 100) throw new Error('the cleared declaration was not archived')
      await new Promise((res) => setTimeout(res, 100))
    }

    // E-commerce: the platform, payment, logistics and declaring enterprises, each with a card; the enterprise is the
    // e-shop (ebc) and sends the orders.
    const parties: Record<
      'ebp' | 'pay' | 'logistics' | 'agent',
      { code: string; cardNo: string; key: string; token: string }
    > = {} as never
    for (const [i, role] of (['ebp', 'pay', 'logistics', 'agent'] as const).entries()) {
      const code = `46010E2E0${i}`
      const e = await api<{ id: string }>('POST', '/api/v1/enterprises', officer1, {
        uscc: withUsccCheck(`91460000MA5E2E${String(i).padStart(3, '0')}`),
        customsCode: code,
        name: `示范${role}企业`,
        registeredDistrict: '6400',
      })
      const k = ed25519.generate()
      const c = await api<{ cardNo: string }>('POST', '/api/v1/cards', officer1, {
        enterpriseId: e.id,
        operatorName: role,
        publicKey: k.publicKey,
      })
      parties[role] = { code, cardNo: c.cardNo, key: k.privateKey, token: await cardSession(c.cardNo, k.privateKey) }
    }
    const senders: Record<CebMessageType, { code: string; cardNo: string; key: string; token: string }> = {
      CEB311: { code: A_CODE, cardNo, key: key.privateKey, token: tokenA },
      CEB411: parties.pay,
      CEB511: parties.logistics,
      CEB621: parties.agent,
    }
    const codes = {
      ebp: parties.ebp.code,
      ebc: A_CODE,
      pay: parties.pay.code,
      logistics: parties.logistics.code,
      agent: parties.agent.code,
    }
    const rng = seededRandom(13)
    const date = chinaToday()
    const tickets = [null, null, 'AMOUNT_MISMATCH', null].map((defect, index) =>
      generateTicket(rng, { index, parties: codes, prefix: 'LST', defect: defect as 'AMOUNT_MISMATCH' | null, date }),
    )
    const send = async (type: CebMessageType, docs: ReturnType<typeof ticketDocuments>[CebMessageType][]) => {
      const s = senders[type]
      const xml = toMessageXml(type, docs as never, baseTransferFor(s.code))
      const parsed = parseCebXml(xml)
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
      const res = await fetch(`${server.url}/api/v1/ceb/messages`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${s.token}`,
          'content-type': 'application/xml',
          [SIGNATURE_HEADER]: xmlSignatureHeader(s.cardNo, s.key, parsed.message),
        },
        body: xml,
      })
      if (!res.ok) throw new Error(`${type}: ${res.status} ${await res.text()}`)
    }
    // Three complete tickets (one with a short payment); the fourth has only its order so far.
    for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
      await send(
        type,
        tickets.slice(0, type === 'CEB311' ? 4 : 3).map((t) => ticketDocuments(t)[type]),
      )
    orders.released = [tickets[0]!.order.head.orderNo, tickets[1]!.order.head.orderNo]
    orders.returned = tickets[2]!.order.head.orderNo
    orders.waiting = tickets[3]!.order.head.orderNo

    browser = await launchBrowser()
    officerCtx = await browser.newContext({ viewport: { width: 1440, height: 900 } })
    page = await officerCtx.newPage()
    await officerSignIn(page, server.url, 'officer1', PASSWORD.officer1)
  })

  after(async () => {
    await browser?.close()
    await server?.stop()
    if (dir) removeDir(dir)
  })

  it('lists certificates; the officer re-issues one, then revokes the new one with a reason, and reads the audit trail', async () => {
    await page.getByRole('link', { name: '证书管理' }).click()
    await page.waitForURL('**/officer/certificates')
    const row = page.locator(`tr[data-certificate="${certNumber}"]`)
    await row.waitFor()
    assert.match((await row.textContent()) ?? '', /有效/)
    await page.getByLabel('状态').selectOption('revoked')
    await page.getByRole('button', { name: '查询' }).click()
    await page.waitForURL('**/officer/certificates?status=revoked')
    await page.getByText('暂无证书').waitFor()
    await page.getByLabel('状态').selectOption('valid')
    await page.getByRole('button', { name: '查询' }).click()
    await page.waitForURL('**/officer/certificates?status=valid')
    await row.waitFor()
    await shot(page, 'certificates')

    await row.getByRole('link', { name: certNumber }).click()
    await page.waitForURL(`**/officer/certificates/${certNumber}`)
    await page.locator('table.audit').waitFor()
    const verify = await page.locator('a.verify-link').getAttribute('href')
    assert.ok(verify?.startsWith(`${server.url}/verify/`), verify ?? '')
    const [pdf] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/v1/certificates/${certNumber}/pdf`)),
      page.getByRole('button', { name: 'PDF' }).click(),
    ])
    assert.equal(pdf.headers()['content-type'], 'application/pdf')

    // Re-issue: confirm in the dialog; the page moves to the new certificate, which names the old one.
    await page.getByRole('button', { name: '换发证书' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('备注（可选）').fill('收货人名称变更')
    await dialog.getByRole('button', { name: '换发证书' }).click()
    await page.waitForURL(
      (u) => /\/officer\/certificates\/\d{8}Q\d{9}$/.test(u.pathname) && !u.pathname.endsWith(certNumber),
    )
    const fresh = page.url().split('/').pop()!
    await page
      .getByRole('status')
      .filter({ hasText: `已换发证书 ${fresh}` })
      .waitFor()
    await page.locator('dl.facts', { hasText: certNumber }).waitFor()

    // Revoke the new one: the dialog asks for a reason (Escape cancels it, focus back on the button); the certificate
    // then shows as revoked, and the trail says so.
    const revoke = page.getByRole('button', { name: '撤销证书' })
    await revoke.click()
    await dialog.getByLabel('撤销原因').waitFor()
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), '撤销证书')
    await revoke.click()
    await dialog.getByLabel('撤销原因').selectOption('ISSUED_IN_ERROR')
    await dialog.getByRole('button', { name: '撤销证书' }).click()
    await page.locator('.page-head .badge', { hasText: '已撤销 · 误签' }).waitFor()
    await page.locator('table.audit tr[data-action="CERTIFICATE_REVOKED"]').waitFor()
    assert.equal(
      await page.getByRole('button', { name: '撤销证书' }).count(),
      0,
      'a revoked certificate has no actions',
    )
    await shot(page, 'certificate')

    // The old one is superseded, in the list with the new one.
    await page.goto(`${server.url}/officer/certificates?status=revoked`)
    await page.locator(`tr[data-certificate="${certNumber}"]`, { hasText: '已换发' }).waitFor()
    await page.locator(`tr[data-certificate="${fresh}"]`, { hasText: '误签' }).waitFor()
  })

  it('lists archives; the officer prints one and finds the print in the log', async () => {
    await page.getByRole('link', { name: '档案管理' }).click()
    await page.waitForURL('**/officer/archives')
    const row = page.locator(`tr[data-entry="${entryId}"]`)
    await row.waitFor()
    await page.getByLabel('报关单号').first().fill(entryId)
    await page.getByRole('button', { name: '查询' }).click()
    await page.waitForURL(`**/officer/archives?entryId=${entryId}`)
    await row.waitFor()
    const [print] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/v1/archives/${entryId}/print`)),
      row.getByRole('button', { name: `打印 ${entryId}` }).click(),
    ])
    assert.equal(print.status(), 200)
    assert.equal(print.headers()['content-type'], 'application/pdf')
    await shot(page, 'archives')

    await row.getByRole('link', { name: entryId }).click()
    await page.waitForURL(`**/officer/archives/${entryId}`)
    await page.getByText('冷冻鸡爪 Frozen chicken feet').waitFor()
    await page.getByRole('button', { name: '打印' }).click()
    await page.getByRole('status').filter({ hasText: '已打印并记录' }).waitFor()
    await shot(page, 'archive')

    // The print log is the second tab: reached from the notice, and from the first tab with the arrow key.
    await page.getByRole('link', { name: '打印与导出记录' }).click()
    await page.waitForURL('**/officer/archives?tab=prints')
    await page.getByRole('tab', { name: '档案' }).focus()
    await page.keyboard.press('ArrowLeft')
    await page.waitForURL((u) => u.pathname === '/officer/archives' && u.search === '')
    await page.keyboard.press('ArrowRight')
    await page.waitForURL('**/officer/archives?tab=prints')
    // The tab takes the focus in the frame after the URL changes.
    await page.waitForFunction(() => document.activeElement?.id === 'tab-prints')
    await page.getByRole('tab', { name: '打印与导出记录', selected: true }).waitFor()
    const prints = page.locator('[data-testid=print-log] tbody tr', { hasText: entryId })
    await prints.first().waitFor()
    assert.equal(await prints.count(), 2, 'both prints are logged')
    assert.match((await prints.first().textContent()) ?? '', /打印.*user:officer1.*\d{8}P\d{9}/)
    await shot(page, 'prints')
  })

  it('shows e-commerce operations live, and a ticket with its four documents and receipts side by side', async () => {
    await page.getByRole('link', { name: '跨境电商监控' }).click()
    await page.waitForURL('**/officer/ecommerce')
    await page.locator('.updated-at', { hasText: '更新于' }).waitFor()
    const count = (s: number) => page.locator(`.lists-status li[data-status="${s}"] strong`).textContent()
    assert.equal(await count(800), '2')
    assert.equal(await count(100), '1')
    assert.equal(await count(2), '1')
    assert.match((await page.textContent('[data-testid=per-minute]')) ?? '', /^\d+$/)
    await page.locator('table', { hasText: 'AMOUNT_MISMATCH' }).first().waitFor()
    await page.getByRole('link', { name: orders.waiting }).first().waitFor()
    for (const o of [...orders.released, orders.returned, orders.waiting])
      await page.locator(`tr[data-order="${o}"]`).waitFor()
    // Filter the list by status (in the URL).
    await page.locator('.lists-status li[data-status="100"] button').click()
    await page.waitForURL('**/officer/ecommerce?returnStatus=100')
    await page.locator(`tr[data-order="${orders.released[0]}"]`).waitFor({ state: 'detached' })
    await page.locator(`tr[data-order="${orders.returned}"]`).waitFor()
    await shot(page, 'ecommerce')

    // A ticket by its order number.
    await page.getByLabel('订单编号', { exact: true }).fill(orders.released[0]!)
    await page.getByRole('button', { name: '打开' }).click()
    await page.waitForURL(`**/officer/ecommerce/orders/${orders.released[0]}`)
    await page.locator('[data-testid=ticket-status]', { hasText: '800 放行' }).waitFor()
    for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621']) {
      const col = page.locator(`[data-doc="${type}"]`)
      await col.locator('dl.lists-fields').waitFor()
      assert.match((await col.textContent()) ?? '', /已纳入/)
      assert.ok((await col.locator('tr[data-receipt]').count()) >= 2, `${type}: received and checked`)
    }
    assert.match((await page.textContent('[data-doc="CEB311"] dl')) ?? '', new RegExp(`orderNo${orders.released[0]}`))
    await page.locator('[data-doc="CEB621"] tr[data-receipt="CEB621:800"]').waitFor()
    await shot(page, 'ticket')

    // The returned ticket shows its reason.
    await page.goto(`${server.url}/officer/ecommerce/orders/${orders.returned}`)
    await page.locator('.lists-reasons', { hasText: 'AMOUNT_MISMATCH' }).waitFor()

    // In English too.
    await page.goto(`${server.url}/officer/ecommerce/orders/${orders.released[0]}`)
    await page.getByRole('button', { name: '切换语言' }).click()
    await page.getByRole('heading', { name: `Order ${orders.released[0]}` }).waitFor()
    await page.locator('[data-doc="CEB411"] h2', { hasText: 'Payment' }).waitFor()
    await page.locator('[data-testid=ticket-status]', { hasText: '800 Released' }).waitFor()
    await shot(page, 'ticket-en')
    await page.getByRole('button', { name: 'Switch language' }).click()
    await officerCtx.close()
  })

  it("the enterprise sees its tickets in the portal's receipts screen and opens their receipts", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const portal = await ctx.newPage()
    await portal.goto(`${server.url}/login`)
    await portal.fill('input[name=cardNo]', cardNo)
    await portal.setInputFiles('input[name=keyFile]', keyFile)
    await portal.click('form button[type=submit]')
    await portal.waitForURL('**/portal/declarations')
    await portal.getByRole('link', { name: '跨境电商回执' }).click()
    await portal.waitForURL('**/portal/receipts')
    for (const o of [...orders.released, orders.returned, orders.waiting])
      await portal.locator(`tr[data-order="${o}"]`).waitFor()
    const toggle = portal.locator(`button[aria-controls="receipts-${orders.returned}"]`)
    assert.equal(await toggle.textContent(), '查看回执')
    await toggle.click()
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true')
    await portal.locator(`#receipts-${orders.returned} tr[data-receipt="CEB311:100"]`).waitFor()
    assert.match((await portal.textContent(`#receipts-${orders.returned}`)) ?? '', /AMOUNT_MISMATCH/)
    // The search box still finds one order's receipts, as a deep link.
    await portal.getByLabel('订单编号', { exact: true }).fill(orders.released[1]!)
    await portal.getByRole('button', { name: '查询' }).click()
    await portal.waitForURL(`**/portal/receipts?orderNo=${orders.released[1]}`)
    await portal
      .locator('section', { hasText: `订单 ${orders.released[1]} 的回执` })
      .locator('tr[data-receipt="CEB621:800"]')
      .waitFor()
    await shot(portal, 'portal-receipts')
    await ctx.close()
  })
})
