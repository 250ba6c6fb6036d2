/**
 * The administration screens in a real browser against a real server: an admin registers an enterprise through the
 * form (a wrong USCC check character is shown at its field), changes its credit level and sees the history row,
 * edits the AEO partner list (an officer reads it), issues a port card for a key pair generated in the browser,
 * downloads the key file once and signs in to the portal with it in another browser context, and revokes another
 * card. Screenshots: test-results/e2e/admin-<screen>.png.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { ed25519 } from '../../src/shared/signing.js'
import { withUsccCheck } from '../../src/shared/uscc.js'
import {
  startServer,
  tempDir,
  removeDir,
  launchBrowser,
  client,
  PASSWORD,
  USERS,
  addUsers,
  passwordToken,
  officerSignIn,
  screenshots,
  type Server,
} from './harness.js'

const NAME = '厦门海沧示范供应链有限公司'

describe('Administration screens, end to end', () => {
  let dir: string
  let server: Server
  let browser: Browser
  let adminCtx: BrowserContext
  let page: Page
  let api: ReturnType<typeof client>
  let officerToken: string
  let enterpriseId: string
  let toRevoke: string
  let toReplace: string
  const shot = screenshots('admin-')

  before(async () => {
    dir = tempDir()
    addUsers(dir, USERS)
    server = await startServer(dir)
    api = client(server.url)
    officerToken = await passwordToken(server.url, 'officer1', PASSWORD.officer1)
    // An enterprise registered earlier, with two operators' cards: one of them is lost and gets revoked below.
    const ent = await api<{ id: string }>('POST', '/api/v1/enterprises', officerToken, {
      uscc: '91350100M000100Y43',
      customsCode: '4403960001',
      name: '深圳前海示范贸易有限公司',
      creditLevel: 'REGULAR',
      registeredDistrict: '5300',
    })
    for (const operatorName of ['李雷', '韩梅梅']) {
      const card = await api<{ cardNo: string }>('POST', '/api/v1/cards', officerToken, {
        enterpriseId: ent.id,
        operatorName,
        publicKey: ed25519.generate().publicKey,
      })
      if (operatorName === '韩梅梅') toRevoke = card.cardNo
      else toReplace = card.cardNo
    }
    browser = await launchBrowser()
    adminCtx = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true })
    page = await adminCtx.newPage()
    await officerSignIn(page, server.url, 'admin', PASSWORD.admin)
  })

  after(async () => {
    await browser?.close()
    await server?.stop()
    if (dir) removeDir(dir)
  })

  it('registers an enterprise through the form; the API problem shows at its field', async () => {
    const admin = page.getByRole('navigation', { name: '系统管理' })
    await admin.getByRole('link', { name: '企业管理' }).click()
    await page.waitForURL('**/admin/enterprises')
    await page.locator('tr[data-customs-code="4403960001"]').waitFor()

    const uscc = withUsccCheck('91350205MA2Y0E5K3')
    const wrong = uscc.slice(0, 17) + (uscc[17] === '1' ? '2' : '1')
    await page.fill('input[name=uscc]', wrong)
    await page.fill('input[name=customsCode]', '3502960123')
    await page.fill('input[name=registeredDistrict]', '3700')
    await page.fill('input[name=name]', NAME)
    await page.fill('input[name=nameEn]', 'Xiamen Haicang Demo Supply Chain Co., Ltd.')
    await page.click('form[aria-labelledby=ent-register] button[type=submit]')
    const err = page.locator('#reg-uscc-err')
    await err.getByText('ENTERPRISE_USCC_CHECK').waitFor()
    assert.match((await err.textContent()) ?? '', /校验位不符/)
    assert.equal(await page.getAttribute('input[name=uscc]', 'aria-invalid'), 'true')
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'uscc', 'focus on the field')
    await shot(page, 'enterprise-register-error')

    await page.fill('input[name=uscc]', uscc)
    await page.click('form[aria-labelledby=ent-register] button[type=submit]')
    await page.waitForURL(/\/admin\/enterprises\/[0-9a-f-]{36}\?registered=1$/)
    enterpriseId = new URL(page.url()).pathname.split('/').pop()!
    await page.getByRole('heading', { level: 1, name: NAME }).waitFor()
    assert.equal(await page.textContent('[data-testid=credit-level]'), '一般信用企业')

    // A shared link with the search and filter shows the same list.
    await page.goto(`${server.url}/admin/enterprises?q=${encodeURIComponent('海沧')}&creditLevel=REGULAR`)
    await page.locator('tr[data-customs-code="3502960123"]').waitFor()
    assert.equal(await page.locator('table[aria-labelledby=ent-list] tbody tr').count(), 1)
    assert.equal(await page.inputValue('input[name=q]'), '海沧')
    await shot(page, 'enterprises')
  })

  it('changes the credit level with a reason and shows the history row', async () => {
    await page.getByRole('link', { name: NAME }).click()
    await page.waitForURL(`**/admin/enterprises/${enterpriseId}`)
    await page.selectOption('select[name=creditLevel]', 'ADVANCED_CERTIFIED')
    await page.fill('input[name=reason]', '通过海关高级认证（AEO）')
    await page.click('form[aria-labelledby=ent-credit] button[type=submit]')
    await page.getByText('信用等级已调整为：高级认证企业').waitFor()
    const rows = page.locator('[data-testid=credit-history] tbody tr')
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=credit-history] tbody tr').length === 2)
    assert.match((await rows.nth(0).textContent()) ?? '', /高级认证企业.*通过海关高级认证（AEO）.*user:admin/)
    assert.match((await rows.nth(1).textContent()) ?? '', /一般信用企业.*registration/)
    assert.equal(await page.textContent('[data-testid=credit-level]'), '高级认证企业')
    await shot(page, 'enterprise')
  })

  it('edits the AEO partner list (admin); an officer reads it', async () => {
    const before = await api<{ items: Array<{ country: string }> }>('GET', '/api/v1/aeo-partners', officerToken)
    const country = ['ISL', 'MNG', 'URY', 'PRY'].find((c) => !before.items.some((p) => p.country === c))!
    await page.getByRole('navigation', { name: '系统管理' }).getByRole('link', { name: 'AEO 互认国家' }).click()
    await page.waitForURL('**/admin/aeo-partners')
    await page.getByRole('heading', { name: `编辑互认国家（${before.items.length}）` }).waitFor()
    await page.getByRole('button', { name: '添加国家' }).click()
    const n = before.items.length
    // An unknown code is refused at its row.
    await page.fill(`input[name=country-${n}]`, 'QQQ')
    await page.fill(`input[name=recognisedFrom-${n}]`, '2026-03-01')
    await page.getByRole('button', { name: '保存整张清单' }).click()
    await page.locator(`#aeo-${n}-country`).getByText('REFERENCE_UNKNOWN_COUNTRY').waitFor()
    await page.fill(`input[name=country-${n}]`, country)
    await page.getByRole('button', { name: '保存整张清单' }).click()
    await page.getByText(`已保存，共 ${n + 1} 个互认国家`).waitFor()
    const saved = await api<{ items: Array<{ country: string; recognisedFrom: string }> }>(
      'GET',
      '/api/v1/aeo-partners',
      officerToken,
    )
    assert.deepEqual(
      saved.items.find((p) => p.country === country),
      { country, recognisedFrom: '2026-03-01', recognisedTo: null },
    )
    await shot(page, 'aeo-partners')

    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const officer = await ctx.newPage()
    await officerSignIn(officer, server.url, 'officer1', PASSWORD.officer1)
    await officer.goto(`${server.url}/admin/aeo-partners`)
    await officer.getByText('只读：仅系统管理员可修改').waitFor()
    await officer.getByRole('cell', { name: new RegExp(country) }).waitFor()
    assert.equal(await officer.getByRole('button', { name: '保存整张清单' }).count(), 0)
    await shot(officer, 'aeo-partners-officer')
    await ctx.close()
  })

  it('issues a card for a key generated in the browser; the downloaded key file signs in to the portal', async () => {
    await page.getByRole('navigation', { name: '系统管理' }).getByRole('link', { name: '电子口岸卡' }).click()
    await page.waitForURL('**/admin/cards')
    await page.getByRole('link', { name: '签发新卡' }).click()
    await page.waitForURL('**/admin/cards/new')
    await shot(page, 'card-new')
    await page.selectOption('select[name=enterpriseId]', enterpriseId)
    await page.fill('input[name=operatorName]', '王芳')
    assert.equal(await page.isChecked('input[value=generate]'), true, 'generating in the browser is the default')
    let sentPrivate = false
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/cards') && /privateKey|"d"/.test(r.postData() ?? '')) sentPrivate = true
    })
    await page.click('form[aria-labelledby=issue-form] button[type=submit]')
    const cardNo = (await page.locator('[data-testid=issued-card-no]').textContent())!
    assert.match(cardNo, /^EP3502960123[0-9A-Z]{6}$/)
    await page.getByText('请妥善保管密钥文件').waitFor()
    await shot(page, 'card-issued')
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: '下载密钥文件（仅一次）' }).click(),
    ])
    const file = join(dir, download.suggestedFilename())
    await download.saveAs(file)
    assert.equal(download.suggestedFilename(), `kouan-card-${cardNo}.json`)
    assert.equal(await page.getByRole('button', { name: '已下载' }).isDisabled(), true, 'offered once')
    const key = JSON.parse(readFileSync(file, 'utf8')) as {
      alg: string
      publicKey: string
      privateKey: string
      cardNo: string
    }
    assert.equal(key.alg, 'Ed25519')
    assert.equal(key.cardNo, cardNo)
    assert.equal(sentPrivate, false, 'the private key never went to the server')
    const cards = await api<{ items: Array<{ cardNo: string; publicKey: string }> }>(
      'GET',
      `/api/v1/cards?enterpriseId=${enterpriseId}`,
      officerToken,
    )
    assert.equal(cards.items.find((c) => c.cardNo === cardNo)?.publicKey, key.publicKey)

    // The holder signs in with the file alone (it names the card).
    const holder = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const portal = await holder.newPage()
    await portal.goto(`${server.url}/login`)
    await portal.setInputFiles('input[name=keyFile]', file)
    await portal.click('form button[type=submit]')
    await portal.waitForURL('**/portal/declarations')
    await portal.getByText('还没有报关单').waitFor()
    await holder.close()
  })

  it('lists cards with statistics, filters in the URL, and revokes a card after a confirmation with a reason', async () => {
    const row = page.locator(`tr[data-card-no="${toRevoke}"]`)
    await page.goto(`${server.url}/admin/cards?status=ACTIVE`)
    await row.waitFor()
    const stats = page.locator('[data-testid=card-stats]')
    assert.match((await stats.textContent()) ?? '', /^3张卡已签发/)
    await page
      .getByTestId('updated')
      .first()
      .getByText(/更新于 \d\d:\d\d:\d\d/)
      .waitFor()
    await page.getByRole('button', { name: `注销卡 ${toRevoke}` }).click()
    const dialog = page.getByRole('dialog', { name: `确认注销卡 ${toRevoke}？` })
    await dialog.waitFor()
    await dialog.locator('select[name=reason]').selectOption('LOST')
    await dialog.locator('input[name=note]').fill('持卡人报告遗失')
    await shot(page, 'card-revoke-dialog')
    await dialog.getByRole('button', { name: '注销' }).click()
    await page.getByTestId('card-notice').getByText(`卡 ${toRevoke} 已注销`).waitFor()
    await row.waitFor({ state: 'detached' })
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'card-notice')
    await page.selectOption('select[name=status]', 'REVOKED')
    await page.waitForURL('**/admin/cards?status=REVOKED')
    await row.getByText('遗失').waitFor()
    await stats.locator('.admin-kpi').nth(3).getByText('1', { exact: true }).waitFor()
    await page.selectOption('select[name=status]', '')
    await row.waitFor()

    // Replacement with the holder's own public key, pasted as PEM: the old card is revoked as superseded.
    const old = page.locator(`tr[data-card-no="${toReplace}"]`)
    await page.getByRole('button', { name: `补办卡 ${toReplace}` }).click()
    const replace = page.getByRole('dialog', { name: `补办卡 ${toReplace}` })
    await replace.locator('input[name=reason]').fill('卡片损坏')
    await replace.getByLabel('使用持卡人提供的公钥（粘贴或读取文件）').check()
    const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()
    await replace.locator('textarea[name=publicKey]').fill(pem)
    await replace.getByTestId('key-reading').getByText('已识别 Ed25519 公钥').waitFor()
    await shot(page, 'card-replace-dialog')
    await replace.getByRole('button', { name: '注销原卡并签发新卡' }).click()
    const newNo = (await replace.getByTestId('issued-card-no').textContent())!
    assert.match(newNo, /^EP4403960001[0-9A-Z]{6}$/)
    await replace.getByText('私钥由持卡人自行保管').waitFor()
    await replace.getByRole('button', { name: '关闭' }).click()
    await page.getByTestId('card-notice').getByText(`卡 ${toReplace} 已注销，补办新卡 ${newNo}`).waitFor()
    await old.getByText('已补办新卡').waitFor()
    await page.locator(`tr[data-card-no="${newNo}"]`).getByText('补办').first().waitFor()
    await stats.getByText(/^4张卡已签发/).waitFor()
    await shot(page, 'cards')

    await page.getByRole('button', { name: '切换语言' }).click()
    await page.getByRole('heading', { name: 'Electronic port cards' }).waitFor()
    assert.match((await stats.textContent()) ?? '', /4cards issued/)
    await shot(page, 'cards-en')
    await page.getByRole('button', { name: 'Switch language' }).click()
  })
})
