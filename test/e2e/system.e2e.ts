/**
 * The administration screens of the system area, in a real browser against a real server: an admin creates an
 * officer account, the officer logs in, the admin disables it and the officer is out; the admin publishes a
 * selectivity parameter (after a refused value shown at its field), rotates the certificate signing key, runs an
 * archive purge (dry run, then the run, which the history lists) and verifies the audit log. Screenshots of every
 * screen go to test-results/e2e/system-<screen>.png (one in English too).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import {
  startServer,
  tempDir,
  removeDir,
  launchBrowser,
  addUsers,
  officerSignIn,
  screenshots,
  type Server,
} from './harness.js'

const ADMIN = { username: 'sysadmin', password: 'e2e-system-admin' }
const READER = { username: 'reader', password: 'e2e-reading-officer' }
const NEW_OFFICER = { username: 'wang.fang', displayName: '王芳', password: 'new-officer-pw' }

describe('system administration screens, end to end', () => {
  let dir: string
  let server: Server
  let browser: Browser
  let adminCtx: BrowserContext
  let admin: Page
  const shot = screenshots('system-')

  /** Signs in as a customs user in `page` (the caller waits for the outcome). */
  const signIn = (page: Page, username: string, password: string) =>
    officerSignIn(page, server.url, username, password, false)
  /** Confirms the open confirmation dialog with its labelled button. */
  const confirm = async (page: Page, label: string) => {
    const dialog = page.getByRole('dialog')
    await dialog.waitFor()
    await dialog.getByRole('button', { name: label }).click()
    await dialog.waitFor({ state: 'hidden' })
  }

  before(async () => {
    dir = tempDir()
    addUsers(dir, {
      [ADMIN.username]: { role: 'admin', password: ADMIN.password },
      [READER.username]: { role: 'officer', password: READER.password },
    })
    // Checkpoints every second, so the audit screen has some to list.
    server = await startServer(dir, { env: { KOUAN_AUDIT_CHECKPOINT_SECONDS: '1' } })
    browser = await launchBrowser()
    adminCtx = await browser.newContext({ viewport: { width: 1366, height: 900 } })
    admin = await adminCtx.newPage()
    await signIn(admin, ADMIN.username, ADMIN.password)
    await admin.waitForURL('**/officer/dashboard')
  })

  after(async () => {
    await browser?.close()
    await server?.stop()
    if (dir) removeDir(dir)
  })

  it('an admin creates an officer, who logs in; disabled, the officer is signed out and cannot log in', async () => {
    // The administration row of the navigation leads there.
    await admin.getByRole('link', { name: '用户账户' }).click()
    await admin.waitForURL('**/admin/users')
    await admin.locator(`tr[data-user="${ADMIN.username}"]`).waitFor()
    // The admin's own account cannot be disabled.
    assert.equal(await admin.locator(`tr[data-user="${ADMIN.username}"] button`).first().isDisabled(), true)

    // A bad username and a short password: refused, the message at the field.
    await admin.fill('#user-username', 'has space')
    await admin.fill('#user-password', 'short')
    await admin.getByRole('button', { name: '创建账户' }).click()
    await admin.locator('#user-username[aria-invalid=true]').waitFor()
    assert.match((await admin.textContent('#user-username-err')) ?? '', /VALIDATION_FAILED/)

    await admin.fill('#user-username', NEW_OFFICER.username)
    await admin.fill('#user-displayName', NEW_OFFICER.displayName)
    await admin.selectOption('#user-role', 'officer')
    await admin.fill('#user-password', NEW_OFFICER.password)
    await admin.getByRole('button', { name: '创建账户' }).click()
    await admin.getByTestId('users-notice').getByText(`已创建账户 ${NEW_OFFICER.username}`).waitFor()
    const row = admin.locator(`tr[data-user="${NEW_OFFICER.username}"]`)
    await row.waitFor()
    assert.match((await row.textContent()) ?? '', /王芳.*海关关员.*正常/)

    // The new officer signs in in another browser.
    const officerCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const officer = await officerCtx.newPage()
    await signIn(officer, NEW_OFFICER.username, NEW_OFFICER.password)
    await officer.waitForURL('**/officer/dashboard')

    // Disabled (after a confirmation), the officer's session ends and the password no longer works.
    await row.getByRole('button', { name: `停用 ${NEW_OFFICER.username}` }).click()
    await confirm(admin, '停用')
    await row.getByText('已停用').waitFor()
    await admin.getByTestId('users-notice').getByText(`账户 ${NEW_OFFICER.username} 已停用`).waitFor()
    await officer.goto(`${server.url}/officer/queue`)
    await officer.waitForURL('**/login')
    await signIn(officer, NEW_OFFICER.username, NEW_OFFICER.password)
    await officer.getByText('AUTH_BAD_CREDENTIALS').waitFor()
    assert.match(officer.url(), /\/login$/)
    await officerCtx.close()

    // Filters live in the URL: a reload shows the same list.
    await admin.fill('input[name=q]', 'wang')
    await admin.selectOption('select[name=status]', 'disabled')
    await admin.getByRole('button', { name: '查询' }).click()
    await admin.waitForURL('**/admin/users?q=wang&status=disabled')
    await admin.reload()
    await row.waitFor()
    assert.equal(await admin.locator('tr[data-user]').count(), 1)
    await admin.goto(`${server.url}/admin/users`)
    await admin.locator(`tr[data-user="${ADMIN.username}"]`).waitFor()
    await shot(admin, 'users')
  })

  it('an admin publishes a selectivity parameter; a value out of range is refused at its field', async () => {
    await admin.getByRole('link', { name: '布控参数' }).click()
    await admin.waitForURL('**/admin/selectivity')
    await admin.getByText('现行参数：第 1 版').waitFor()
    await admin.fill('#sel-thresholds-yellow', '150')
    await admin.getByRole('button', { name: '发布新版本' }).click()
    await admin.locator('#sel-thresholds-yellow[aria-invalid=true]').waitFor()
    assert.match((await admin.textContent('#sel-thresholds-yellow-err')) ?? '', /VALIDATION_FAILED/)
    // Focus moves to the field in error.
    assert.equal(await admin.evaluate(() => document.activeElement?.id), 'sel-thresholds-yellow')

    await admin.fill('#sel-thresholds-yellow', '35')
    await admin.getByRole('button', { name: '发布新版本' }).click()
    await admin.getByTestId('params-saved').getByText('已发布第 2 版参数').waitFor()
    await admin.getByText('现行参数：第 2 版').waitFor()
    assert.equal(await admin.inputValue('#sel-thresholds-yellow'), '35')
    await shot(admin, 'selectivity')

    // Officers read the parameters, without a way to change them.
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const officer = await ctx.newPage()
    await signIn(officer, READER.username, READER.password)
    await officer.waitForURL('**/officer/dashboard')
    await officer.getByRole('link', { name: '布控参数' }).click()
    await officer.getByText('现行参数：第 2 版').waitFor()
    await officer.getByText('只有系统管理员可以修改布控参数。').waitFor()
    assert.equal(await officer.getByRole('button', { name: '发布新版本' }).count(), 0)
    assert.equal(await officer.isDisabled('#sel-thresholds-yellow'), true)
    assert.equal(await officer.getByRole('link', { name: '用户账户' }).count(), 0, 'admin screens stay hidden')
    await ctx.close()
  })

  it('an admin rotates the certificate signing key after confirming', async () => {
    await admin.getByRole('link', { name: '证书签名密钥' }).click()
    await admin.waitForURL('**/admin/certificate-keys')
    await admin.getByTestId('quarantine').waitFor()
    // The quarantine table: a malformed HS code is refused at its cell; put back, the table saves.
    await admin.fill('#q-0-hsFrom', '0x')
    await admin.getByTestId('quarantine').locator('..').getByRole('button', { name: '保存' }).click()
    await admin.locator('#q-0-hsFrom[aria-invalid=true]').waitFor()
    assert.match((await admin.textContent('#q-0-hsFrom-err')) ?? '', /VALIDATION_FAILED/)
    await admin.fill('#q-0-hsFrom', '01')
    await admin.getByTestId('quarantine').locator('..').getByRole('button', { name: '保存' }).click()
    await admin.getByText('检验检疫范围已保存。').waitFor()
    await admin.selectOption('#rotate-alg', 'SM2')
    await admin.getByRole('button', { name: '轮换密钥' }).click()
    await confirm(admin, '轮换密钥')
    const notice = (await admin.getByTestId('rotated').textContent()) ?? ''
    const kid = /已启用新密钥 (\S+)，/.exec(notice)?.[1]
    assert.ok(kid, notice)
    const active = admin.locator('[data-testid=cert-keys] tr.active')
    await active.getByText(kid).waitFor()
    assert.match((await active.textContent()) ?? '', /SM2.*在用/)
    // A second rotation retires it.
    await admin.getByRole('button', { name: '轮换密钥' }).click()
    await confirm(admin, '轮换密钥')
    await admin.locator('[data-testid=cert-keys] tr', { hasText: kid }).getByText('已停用').waitFor()
    await shot(admin, 'certificate-keys')
  })

  it('an admin runs a purge dry run, then the purge, and sees the run in the history', async () => {
    await admin.getByRole('link', { name: '档案保管与销毁' }).click()
    await admin.waitForURL('**/admin/archives')
    await admin.getByTestId('retention').waitFor()
    // A retention rule of 0 years is refused at its cell.
    const years = await admin.inputValue('#ret-0-years')
    await admin.fill('#ret-0-years', '0')
    await admin.getByTestId('retention').locator('..').getByRole('button', { name: '保存' }).click()
    await admin.locator('#ret-0-years[aria-invalid=true]').waitFor()
    await admin.fill('#ret-0-years', years)
    await admin.getByTestId('retention').locator('..').getByRole('button', { name: '保存' }).click()
    await admin.getByText('保管期限规则已保存。').waitFor()
    await admin.getByText('尚无销毁记录').waitFor()
    const run = admin.getByRole('button', { name: '执行销毁' })
    assert.equal(await run.isDisabled(), true, 'a dry run comes first')
    await admin.getByRole('button', { name: '试运行（不删除）' }).click()
    await admin
      .getByTestId('purge-result')
      .getByText(/试运行：截至 \d{4}-\d{2}-\d{2}，有 0 份档案超过保管期限/)
      .waitFor()
    await admin.locator('[data-testid=purge-runs] tr[data-run=dry]').waitFor()
    await run.click()
    await confirm(admin, '执行销毁')
    await admin
      .getByTestId('purge-result')
      .getByText(/已销毁 0 份档案/)
      .waitFor()
    const real = admin.locator('[data-testid=purge-runs] tr[data-run=real]')
    await real.waitFor()
    assert.match((await real.textContent()) ?? '', new RegExp(`正式执行.*user:${ADMIN.username}`))
    assert.equal(await admin.locator('[data-testid=purge-runs] tbody tr').count(), 2)
    // The history's filter is in the URL.
    await admin.selectOption('#runs-kind', 'real')
    await admin.waitForURL('**/admin/archives?runs=real')
    await admin.reload()
    await real.waitFor()
    assert.equal(await admin.locator('[data-testid=purge-runs] tbody tr').count(), 1)
    await shot(admin, 'archives')
  })

  it('an admin verifies the audit log and sees it pass, with the signed checkpoints and their keys', async () => {
    await admin.getByRole('link', { name: '审计日志校验' }).click()
    await admin.waitForURL('**/admin/audit')
    await admin.getByRole('button', { name: '开始校验' }).click()
    const result = admin.getByTestId('verify-result')
    await result.getByText('审计日志完整，未发现问题').waitFor()
    assert.match((await result.textContent()) ?? '', /校验了 16 条链、\d+ 行，问题 0 个/)
    await admin.locator('[data-testid=checkpoints] tbody tr').first().waitFor()
    await admin.locator('[data-testid=checkpoint-keys] tr.active').waitFor()
    await shot(admin, 'audit')

    // Once in English.
    await admin.getByRole('button', { name: '切换语言' }).click()
    await admin.getByRole('heading', { name: 'Audit log verification' }).waitFor()
    await admin.getByRole('button', { name: 'Run the verification' }).click()
    await admin.getByTestId('verify-result').getByText('The audit log is intact: no problems').waitFor()
    await shot(admin, 'audit-en')
    await admin.getByRole('button', { name: 'Switch language' }).click()
  })
})
