/**
 * 24/7 appointment clearance (预约通关) in a real browser, against a real server on the real clock: an officer rosters
 * the night hours of a working day at least three China days ahead at site 5301; the enterprise's operator (port-card
 * login) books an "other urgent" clearance for 22:00 that day (after a refused HS code shown at its field), which
 * waits for review; an officer accepts it in the review queue; the operator sees the receipt (appointment number, duty
 * phone and officers). The officer's board and figures show the booking; the operator then cancels it and explains
 * in writing. A second booking (accepted automatically) is rescheduled by the operator and held by an officer with a
 * reason.
 * Screenshots: test-results/e2e/appointments-<screen>.png.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { withUsccCheck } from '../../src/shared/uscc.js'
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

const CODE = '5301960101'
const SITE = '5301'
const HOUR = 22
const DAY_MS = 86_400_000
/** A China date (Asia/Shanghai, UTC+8) `days` after today's, on the real clock the server uses too. */
const chinaDate = (days: number) => new Date(Date.now() + 8 * 3600_000 + days * DAY_MS).toISOString().slice(0, 10)

describe('Appointment clearance, end to end', () => {
  let dir: string
  let server: Server
  let browser: Browser
  let keyFile: string
  let cardNo: string
  let cardSession: () => Promise<string>
  let officerCtx: BrowserContext
  let portalCtx: BrowserContext
  let officer: Page
  let portal: Page
  let number = ''
  let detailPath = ''
  /** The booked day: the first working day (office hours apply) at least three China days ahead. */
  let date = ''
  const today = chinaDate(0)
  const shot = screenshots('appointments-')

  before(async () => {
    dir = tempDir()
    addUsers(dir, USERS)
    keyFile = join(dir, 'enterprise-card.json')
    cli(dir, ['card', 'keygen', '-o', keyFile])
    server = await startServer(dir)
    const api = client(server.url)
    const officer1 = await passwordToken(server.url, 'officer1', PASSWORD.officer1)
    // The enterprise and its port card (registered by customs earlier; the key file stays with the enterprise).
    const key = readJson<{ publicKey: string; privateKey: string }>(keyFile)
    const ent = await api<{ id: string }>('POST', '/api/v1/enterprises', officer1, {
      uscc: withUsccCheck('91440300MA5AP0001'),
      customsCode: CODE,
      name: '深圳鲜达冷链进出口有限公司',
      creditLevel: 'REGULAR',
      registeredDistrict: '5300',
    })
    cardNo = (
      await api<{ cardNo: string }>('POST', '/api/v1/cards', officer1, {
        enterpriseId: ent.id,
        operatorName: '王晓',
        publicKey: key.publicKey,
      })
    ).cardNo
    cardSession = () => cardToken(server.url, cardNo, key.privateKey)
    for (let d = 3; !date; d++) {
      const day = await api<{ officeHours: unknown }>(
        'GET',
        `/api/v1/appointment-slots?site=${SITE}&date=${chinaDate(d)}`,
        officer1,
      )
      if (day.officeHours) date = chinaDate(d)
      if (d > 20) throw new Error('no working day in the next three weeks')
    }

    browser = await launchBrowser()
    officerCtx = await browser.newContext({ viewport: { width: 1440, height: 900 } })
    officer = await officerCtx.newPage()
    await officerSignIn(officer, server.url, 'officer1', PASSWORD.officer1)
    portalCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    portal = await portalCtx.newPage()
    await portal.goto(`${server.url}/login`)
    await portal.fill('input[name=cardNo]', cardNo)
    await portal.setInputFiles('input[name=keyFile]', keyFile)
    await portal.click('form button[type=submit]')
    await portal.waitForURL('**/portal/declarations')
  })

  after(async () => {
    await browser?.close()
    await server?.stop()
    if (dir) removeDir(dir)
  })

  it('the officer rosters the night hours of the day: capacity and the officers on duty', async () => {
    await officer.getByRole('link', { name: '预约通关', exact: true }).click()
    await officer.waitForURL('**/officer/appointments')
    await officer.getByRole('link', { name: '排班', exact: true }).click()
    await officer.waitForURL('**/officer/appointments/roster')
    await officer.getByLabel('申报口岸（预约现场）').selectOption(SITE)
    await officer.getByLabel('日期', { exact: true }).fill(date)
    await officer.waitForURL(`**/officer/appointments/roster?site=${SITE}&date=${date}`)
    const row = (h: number) => officer.locator(`form.appt-roster tr[data-hour="${h}"]`)
    await row(HOUR).waitFor()
    // Office hours are marked; night hours are bookable with the site's default capacity.
    assert.match((await row(10).textContent()) ?? '', /工作时间/)
    assert.match((await row(HOUR).textContent()) ?? '', /已约 0 \/ 4/)
    for (const h of [HOUR, HOUR + 1]) await row(h).getByRole('checkbox').check()
    await officer.getByText('已选 2 个时段').waitFor()
    await officer.getByLabel('容量（每时段）').fill('3')
    await officer.getByLabel('姓名 1').fill('李值班')
    await officer.getByLabel('电话 1').fill('0755-84390000')
    await officer.getByRole('button', { name: '添加关员' }).click()
    await officer.getByLabel('姓名 2').fill('周夜班')
    await officer.getByRole('button', { name: '保存到 2 个时段' }).click()
    await officer
      .getByRole('status')
      .filter({ hasText: `已保存 ${date} 的 2 个时段` })
      .waitFor()
    await row(HOUR).locator('[data-testid=slot-officers]', { hasText: '李值班 0755-84390000' }).waitFor()
    assert.match((await row(HOUR).textContent()) ?? '', /已约 0 \/ 3/)
    assert.match((await row(HOUR + 1).textContent()) ?? '', /周夜班/)
    await shot(officer, 'roster')
  })

  it('the operator books an other-urgent clearance for a night hour: refused HS code at its field, then pending', async () => {
    await portal.getByRole('link', { name: '预约通关', exact: true }).click()
    await portal.waitForURL('**/portal/appointments/new')
    await portal.waitForFunction(
      (code) => document.querySelector<HTMLInputElement>('input[name=enterpriseCode]')?.value === code,
      CODE,
    )
    await portal.getByLabel('联系人姓名').fill('王晓')
    await portal.getByLabel('联系人手机').fill('13800138000')
    await portal.getByLabel('货物类别').selectOption('OTHER_URGENT')
    await portal.getByLabel('申报口岸（预约现场）').selectOption(SITE)
    await portal.getByLabel('进出境口岸').selectOption('5302')
    await portal.getByLabel('运输方式').selectOption('4')
    await portal.getByLabel('货物名称 1').fill('冻鸡爪')
    await portal.getByLabel('商品编码（8 位） 1').fill('0207142')
    await portal.getByRole('button', { name: '添加货物' }).click()
    await portal.getByLabel('货物名称 2').fill('冻大麻哈鱼')
    await portal.getByLabel('商品编码（8 位） 2').fill('03031200')
    await portal.getByLabel('日期', { exact: true }).fill(date)
    // The slots of the day: office hours greyed and not bookable, the night hour with the roster's capacity.
    const slot = portal.locator(`.appt-slots li[data-hour="${HOUR}"]`)
    await slot.filter({ hasText: '已约 0 / 3' }).waitFor()
    const office = portal.locator('.appt-slots li[data-hour="10"]')
    assert.match((await portal.textContent('[data-testid=day-kind]')) ?? '', /工作日，工作时间 9:00–17:00 不可预约/)
    assert.equal(await office.getByRole('radio').isDisabled(), true, 'office hours are not bookable')
    await slot.getByRole('radio').check()
    await portal.getByLabel('可顺延小时数').fill('1')
    await portal.getByLabel('预约事由').fill('冷链货物夜间到港，需连夜通关')
    await portal.getByLabel('关联提运单号（可选）').fill('COSU6200998877')
    await portal.getByRole('button', { name: '提交预约' }).click()
    // The server refuses the 7-digit code; its problem shows at that cell.
    const hs = portal.getByLabel('商品编码（8 位） 1')
    await portal.locator('#goods-0-hsCode[aria-invalid=true]').waitFor()
    assert.match((await portal.textContent('#goods-0-hsCode-err')) ?? '', /goods\/0\/hsCode|hsCode|8/)
    await shot(portal, 'book')
    await hs.fill('02071422')
    await portal.getByRole('button', { name: '提交预约' }).click()
    await portal.waitForURL((u) => /^\/portal\/appointments\/[0-9a-f-]{36}$/.test(u.pathname))
    detailPath = new URL(portal.url()).pathname
    await portal.locator('[data-testid=status] [data-status=PENDING]').waitFor()
    number = ((await portal.textContent('h1')) ?? '').replace(/^预约\s*/, '').trim()
    assert.ok(number.startsWith(SITE), number)
    await portal
      .getByRole('status')
      .filter({ hasText: `预约 ${number} 已提交，等待海关审核` })
      .waitFor()
    assert.equal(await portal.textContent('[data-testid=slot]'), `${date} 22:00–23:00`)
    assert.equal(await portal.locator('[data-testid=receipt]').count(), 0, 'no receipt before acceptance')
    await portal.locator('.appt-timeline tbody tr').first().waitFor()
    await shot(portal, 'pending')
  })

  it('the officer accepts it in the review queue; the operator sees the receipt', async () => {
    await officer.getByRole('link', { name: '审核队列', exact: true }).click()
    // The second row of links keeps the site and day the officer was looking at.
    await officer.waitForURL(
      (u) => u.pathname === '/officer/appointments/review' && u.searchParams.get('site') === SITE,
    )
    const row = officer.locator(`[data-testid=pending] tr[data-appointment="${number}"]`)
    await row.waitFor()
    assert.match((await row.textContent()) ?? '', /深圳鲜达冷链.*其他紧急货物.*待审核/)
    await officer.locator('[data-testid=overdue]').getByText('没有逾期的说明').waitFor()
    await shot(officer, 'review')
    await row.getByRole('button', { name: `受理 ${number}` }).click()
    const dialog = officer.getByRole('dialog')
    await dialog.getByLabel('备注（可选）').fill('冷链货物，同意夜间通关')
    await dialog.getByRole('button', { name: '受理', exact: true }).click()
    await officer
      .getByRole('status')
      .filter({ hasText: `预约 ${number} 已受理` })
      .waitFor()
    await row.waitFor({ state: 'detached' })
    await officer.locator('[data-testid=pending]').getByText('没有待审核的预约').waitFor()

    // The operator's page follows the change (live stream, or its poll).
    await portal.locator('[data-testid=status] [data-status=ACCEPTED]').waitFor()
    const receipt = portal.locator('[data-testid=receipt]')
    await receipt.waitFor()
    assert.equal(await receipt.locator('[data-testid=receipt-number]').textContent(), number)
    assert.equal(await receipt.locator('[data-testid=duty-phone]').textContent(), '12360')
    assert.match(
      (await receipt.locator('[data-testid=duty-officers]').textContent()) ?? '',
      /李值班.*0755-84390000.*周夜班/,
    )
    assert.match((await receipt.textContent()) ?? '', new RegExp(`${date} 22:00`))
    assert.match((await receipt.textContent()) ?? '', /officer1/)
    await portal.locator('.appt-timeline tr[data-action]').nth(1).waitFor()
    await shot(portal, 'receipt')

    // My bookings: filtered by status in the URL.
    await portal.getByRole('link', { name: '我的预约', exact: true }).click()
    await portal.waitForURL('**/portal/appointments')
    await portal.getByLabel('状态').selectOption('ACCEPTED')
    await portal.getByRole('button', { name: '查询' }).click()
    await portal.waitForURL('**/portal/appointments?status=ACCEPTED')
    await portal.locator(`tr[data-appointment="${number}"][data-status=ACCEPTED]`).waitFor()
    await portal.getByLabel('状态').selectOption('REJECTED')
    await portal.getByRole('button', { name: '查询' }).click()
    await portal.getByText('没有符合条件的预约').waitFor()
    await portal.goBack()
    await portal.locator(`tr[data-appointment="${number}"]`).waitFor()
    await shot(portal, 'mine')
  })

  it("the board shows the day's slots, capacity use, roster and the booking; the figures count it", async () => {
    await officer.getByRole('link', { name: '值班看板', exact: true }).click()
    await officer.waitForURL((u) => u.pathname === '/officer/appointments' && u.searchParams.get('date') === date)
    const row = officer.locator(`table.appt-board tr[data-hour="${HOUR}"]`)
    await row.locator(`li[data-appointment="${number}"]`).waitFor()
    const text = (await row.textContent()) ?? ''
    assert.match(text, /已约 1 \/ 3/)
    assert.match(text, /李值班/)
    assert.match(text, /已受理/)
    assert.match((await officer.textContent('[data-testid=day-total]')) ?? '', /全天已约 1/)
    await shot(officer, 'board')
    await row.getByRole('link', { name: number }).click()
    await officer.waitForURL((u) => /^\/officer\/appointments\/[0-9a-f-]{36}$/.test(u.pathname))
    await officer.locator('[data-testid=receipt-number]', { hasText: number }).waitFor()
    // An accepted booking may be held or removed by the officer, not accepted again.
    await officer.getByRole('button', { name: '暂停' }).waitFor()
    assert.equal(await officer.getByRole('button', { name: '受理', exact: true }).count(), 0)

    await officer.goto(`${server.url}/officer/appointments/stats?site=${SITE}&from=${today}&to=${date}`)
    await officer.locator('[data-kpi=bookings] .lists-big', { hasText: '1' }).waitFor()
    await officer.locator('.chart[data-drawn=true]').waitFor()
    await officer.getByText('以表格查看').click()
    assert.equal(await officer.textContent(`[data-testid=by-hour] tr[data-hour="${HOUR}"] td`), '1')
    assert.equal(await officer.textContent('[data-testid=by-hour] tr[data-hour="3"] td'), '0')
    assert.match((await officer.textContent('[data-testid=by-status] [data-status=ACCEPTED]')) ?? '', /1/)
    await officer.locator('[data-kpi=after-hours] .lists-big').waitFor()
    await shot(officer, 'stats')
  })

  it('the operator cancels the accepted booking and explains it in writing', async () => {
    await portal.goto(server.url + detailPath)
    await portal.getByRole('button', { name: '撤销预约' }).click()
    const dialog = portal.getByRole('dialog')
    await dialog.getByText('撤销后须在 5 日内提交书面说明').waitFor()
    // Escape cancels; focus goes back to the button.
    await portal.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    assert.equal(await portal.evaluate(() => document.activeElement?.textContent), '撤销预约')
    await portal.getByRole('button', { name: '撤销预约' }).click()
    await dialog.getByLabel('原因').fill('船期延误，货物改为次日到港')
    await dialog.getByRole('button', { name: '撤销预约' }).click()
    await portal.locator('[data-testid=status] [data-status=CANCELLED]').waitFor()
    const task = portal.locator('[data-testid=explanation]')
    await task.getByText('待说明').waitFor()
    await task.getByLabel('撤销已受理预约的情况说明').fill('船舶因台风延误靠港，已改约次日日间办理。')
    await task.getByRole('button', { name: '提交说明' }).click()
    await task.getByText('已说明').waitFor()
    await portal.getByRole('status').filter({ hasText: '书面说明已提交' }).waitFor()
    await shot(portal, 'explanation')

    // The booking has left the board's slot. The day picker: today (no date in the URL), tomorrow, any date.
    await officer.goto(`${server.url}/officer/appointments?site=${SITE}`)
    await officer.getByRole('button', { name: '今天' }).and(officer.locator('[aria-pressed=true]')).waitFor()
    await officer.getByRole('button', { name: '明天' }).click()
    await officer.waitForURL((u) => u.searchParams.get('date') === chinaDate(1))
    await officer.getByRole('button', { name: '明天' }).and(officer.locator('[aria-pressed=true]')).waitFor()
    await officer.getByLabel('日期', { exact: true }).fill(date)
    await officer.waitForURL((u) => u.searchParams.get('date') === date && u.searchParams.get('site') === SITE)
    const row = officer.locator(`table.appt-board tr[data-hour="${HOUR}"]`)
    await row.filter({ hasText: '已约 0 / 3' }).waitFor()
    await officer.getByRole('button', { name: '切换语言' }).click()
    await officer.getByRole('heading', { name: 'Appointments board' }).waitFor()
    await row.filter({ hasText: '0 of 3 booked' }).waitFor()
    await shot(officer, 'board-en')
    await officer.getByRole('button', { name: 'Switch language' }).click()
  })

  it('the operator reschedules an automatically accepted booking; the officer holds it with a reason', async () => {
    // Booked earlier through the API (the enterprise's own system): perishables are accepted automatically at 5301.
    const booked = await client(server.url)<{ id: string; number: string; status: string }>(
      'POST',
      '/api/v1/appointments',
      await cardSession(),
      {
        clientRef: `E2E-PERISHABLE-${Date.now()}`,
        enterpriseCode: CODE,
        contactName: '王晓',
        contactMobile: '13800138000',
        service: 'INSPECTION',
        category: 'PERISHABLE',
        site: SITE,
        iePort: SITE,
        ieFlag: 'I',
        goods: [{ name: '冻大麻哈鱼', hsCode: '03031200' }],
        transportMode: '4',
        date,
        hour: 21,
        reason: '冷冻水产品夜间查验',
      },
    )
    assert.equal(booked.status, 'ACCEPTED')
    await portal.goto(`${server.url}/portal/appointments/${booked.id}`)
    await portal.locator('[data-testid=receipt-number]', { hasText: booked.number }).waitFor()
    // The automatic acceptance's reason in the user's words (the server sends it in English).
    assert.match(
      (await portal.locator('.appt-timeline tr[data-action=ACCEPTED]').textContent()) ?? '',
      /系统自动审核：5301 皇岗海关对“鲜活易腐（冷冻）”类货物自动受理/,
    )
    await portal.getByRole('button', { name: '改约' }).click()
    const dialog = portal.getByRole('dialog')
    // The hour list shows the day's slots (office hours cannot be chosen).
    const hour = dialog.locator('select[name=hour]')
    await dialog.locator('option[value="23"]', { hasText: '已约 0 / 3' }).waitFor({ state: 'attached' })
    await hour.selectOption('23')
    await dialog.getByLabel('原因').fill('提货车辆改为 23 点到达')
    await shot(portal, 'reschedule')
    await dialog.getByRole('button', { name: '改约' }).click()
    await portal
      .getByRole('status')
      .filter({ hasText: `预约 ${booked.number} 已改约，状态：已受理` })
      .waitFor()
    await portal.locator('[data-testid=slot]', { hasText: `${date} 23:00–24:00` }).waitFor()
    await portal.locator('.appt-timeline tr[data-action=RESCHEDULED]').waitFor()

    await officer.goto(`${server.url}/officer/appointments/${booked.id}`)
    await officer.getByRole('button', { name: '暂停' }).click()
    const od = officer.getByRole('dialog')
    await od.getByLabel('原因').fill('待补充检疫证明')
    await od.getByRole('button', { name: '暂停' }).click()
    await officer
      .getByRole('status')
      .filter({ hasText: `预约 ${booked.number} 已暂停` })
      .waitFor()
    await officer.locator('[data-testid=status] [data-status=HELD]').waitFor()

    // The operator's page follows: held, with the officer's reason; it may still cancel, not reschedule.
    await portal.locator('[data-testid=status] [data-status=HELD]').waitFor()
    await portal.locator('[data-testid=last-reason]', { hasText: '待补充检疫证明' }).waitFor()
    assert.equal(await portal.getByRole('button', { name: '改约' }).count(), 0)
    await portal.getByRole('button', { name: '撤销预约' }).waitFor()
    await shot(portal, 'held')
  })

  it("an admin sets a site's category policy and duty phone; an unknown customs office is refused at its code", async () => {
    const adminCtx = await browser.newContext({ viewport: { width: 1440, height: 900 } })
    const admin = await adminCtx.newPage()
    try {
      await officerSignIn(admin, server.url, 'admin', PASSWORD.admin)
      await admin.getByRole('navigation', { name: '系统管理' }).getByRole('link', { name: '预约现场' }).click()
      await admin.waitForURL('**/admin/appointment-sites')
      const row = admin.locator('[data-testid=sites] tr[data-site="5345"]')
      await row.waitFor()
      assert.match((await row.textContent()) ?? '', /09:00–17:00/)
      assert.equal(await row.locator('[data-category=DANGEROUS_GOODS]').getAttribute('data-policy'), 'REVIEW')
      await row.getByRole('link', { name: /^编辑现场 5345/ }).click()
      await admin.waitForURL('**/admin/appointment-sites?code=5345')
      const form = admin.locator('form.appt-site')
      await form.getByRole('heading', { name: /^编辑现场 5345/ }).waitFor()
      await form.getByLabel('危险品').selectOption('OFF')
      await form.getByLabel('值班电话').fill('0755-83398888')
      await form.getByLabel('结束').selectOption('18')
      await form.getByRole('button', { name: '保存现场设置' }).click()
      await admin
        .getByRole('status')
        .filter({ hasText: /现场 5345 .*的设置已保存/ })
        .waitFor()
      // The table shows the saved site; the server has it too (a booking's receipt would carry the new phone).
      await row.locator('[data-category=DANGEROUS_GOODS][data-policy=OFF]', { hasText: '不受理' }).waitFor()
      assert.equal(await row.locator('[data-testid=duty-phone]').textContent(), '0755-83398888')
      assert.match((await row.textContent()) ?? '', /09:00–18:00/)
      const token = await passwordToken(server.url, 'admin', PASSWORD.admin)
      const sites = await client(server.url)<{
        items: Array<{ code: string; dutyPhone: string; categories: Record<string, string> }>
      }>('GET', '/api/v1/appointment-sites', token)
      const stored = sites.items.find((x) => x.code === '5345')
      assert.equal(stored?.dutyPhone, '0755-83398888')
      assert.equal(stored?.categories.DANGEROUS_GOODS, 'OFF')
      await shot(admin, 'sites')
      // A reload of the shared link shows the same site being edited.
      await admin.reload()
      assert.equal(await admin.locator('form.appt-site select[name=policy-DANGEROUS_GOODS]').inputValue(), 'OFF')

      // Adding a site: 9999 is no customs office; the server's UNKNOWN_PORT shows at the code field.
      await admin.getByRole('button', { name: '取消' }).click()
      await admin.waitForURL((u) => u.pathname === '/admin/appointment-sites' && !u.search)
      await admin.getByRole('button', { name: '新增现场' }).click()
      await admin.waitForURL('**/admin/appointment-sites?new=1')
      const code = admin.getByLabel('关区代码（4 位）')
      await code.fill('9999')
      await admin.getByRole('button', { name: '保存现场设置' }).click()
      await admin.locator('input[name=code][aria-invalid=true]').waitFor()
      assert.match((await admin.textContent('#site-code-err')) ?? '', /UNKNOWN_PORT — 未知的口岸代码/)
      assert.equal(await admin.evaluate(() => document.activeElement?.getAttribute('name')), 'code')
      assert.equal(await admin.locator('[data-testid=sites] tr[data-site="9999"]').count(), 0)
      await shot(admin, 'sites-unknown')
      await admin.getByRole('button', { name: '切换语言' }).click()
      await admin.getByRole('heading', { name: 'Appointment sites', level: 1 }).waitFor()
      await row.locator('[data-category=DANGEROUS_GOODS]', { hasText: 'Not taken' }).waitFor()
      await shot(admin, 'sites-en')
    } finally {
      await adminCtx.close()
    }
  })
})
