/**
 * End-to-end harness: a real server process (`node dist/src/cli.js serve`, PGlite in a temp dir) and a real
 * Chromium (Debian's, through playwright-core). Nothing is mocked; the tests drive the console like people do.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ed25519 } from '../../src/shared/signing.js'
import { packageRoot } from '../../src/shared/paths.js'

// The package root whether this runs from test/e2e (tsx) or dist/test/e2e (the dashboard bench).
export const ROOT = packageRoot()
export const CLI = join(ROOT, 'dist', 'src', 'cli.js')
/** Screenshots of each main screen land here (gitignored). */
export const ARTIFACTS = join(ROOT, 'test-results', 'e2e')
export const CHROMIUM = process.env.KOUAN_CHROMIUM ?? '/usr/bin/chromium'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export interface Server {
  url: string
  dir: string
  proc: ChildProcess
  output(): string
  stop(): Promise<void>
}

/** Runs the CLI against the temp data dir (before the server starts: PGlite has one owner at a time). */
export function cli(dir: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, DATABASE_URL: '', KOUAN_DATA_DIR: join(dir, 'data'), KOUAN_LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
  })
}

/** Starts `kouan serve` (or `kouan start` with the simulator) on a free port and waits for its health check. */
export async function startServer(
  dir: string,
  opts: { command?: 'serve' | 'start'; env?: Record<string, string> } = {},
): Promise<Server> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const proc = spawn(process.execPath, [CLI, opts.command ?? 'serve', '--port', String(port)], {
    // PGlite in the temp dir, whatever the environment says (an empty DATABASE_URL counts as unset).
    env: {
      ...process.env,
      DATABASE_URL: '',
      KOUAN_DATA_DIR: join(dir, 'data'),
      KOUAN_LOG_LEVEL: 'warn',
      KOUAN_SIMULATE: 'false',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  proc.stdout!.on('data', (b: Buffer) => {
    output += b.toString()
  })
  proc.stderr!.on('data', (b: Buffer) => {
    output += b.toString()
  })
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${output}`)
    try {
      if ((await fetch(`${url}/api/v1/health`)).ok) break
    } catch {
      /* not listening yet */
    }
    if (i > 600) throw new Error(`server did not start: ${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    dir,
    proc,
    output: () => output,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      await exited
    },
  }
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kouan-e2e-'))
  mkdirSync(ARTIFACTS, { recursive: true })
  return dir
}

export function removeDir(dir: string) {
  rmSync(dir, { recursive: true, force: true })
}

/**
 * Debian's Chromium. Its contexts wait up to 60 s for a condition instead of Playwright's 30: on a loaded 2-core
 * machine a page has been seen to stall past 30 s, and a wait for a condition costs nothing more when all goes well.
 */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  const newContext = browser.newContext.bind(browser)
  browser.newContext = async (options) => {
    const ctx = await newContext(options)
    ctx.setDefaultTimeout(60_000)
    return ctx
  }
  return browser
}

/** A JSON API client for the setup steps a customs administrator does outside the console. */
export function client(base: string) {
  return async <T = Record<string, unknown>>(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<T> => {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return (text ? JSON.parse(text) : undefined) as T
  }
}

export const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T

/** The accounts most suites start with: an admin and two officers (rules need a second officer's activation). */
export const PASSWORD = { admin: 'e2e-admin-password', officer1: 'e2e-officer-one', officer2: 'e2e-officer-two' }
export const USERS = {
  admin: { role: 'admin', password: PASSWORD.admin },
  officer1: { role: 'officer', password: PASSWORD.officer1 },
  officer2: { role: 'officer', password: PASSWORD.officer2 },
} as const

/** Creates officer and admin accounts with the CLI, as an administrator does before the server starts. */
export function addUsers(dir: string, users: Record<string, { role: 'admin' | 'officer'; password: string }>) {
  for (const [name, u] of Object.entries(users))
    cli(dir, ['user', 'add', name, '--role', u.role, '--password', u.password])
}

/** A bearer token for an officer or admin account (password login). */
export async function passwordToken(base: string, username: string, password: string): Promise<string> {
  return (await client(base)<{ token: string }>('POST', '/api/v1/auth/login', undefined, { username, password })).token
}

/** A bearer token for a port card: the server's challenge signed with the card's Ed25519 key. */
export async function cardToken(base: string, cardNo: string, privateKey: string): Promise<string> {
  const api = client(base)
  const ch = await api<{ challengeId: string; challenge: string }>('POST', '/api/v1/auth/challenge', undefined, {
    cardNo,
  })
  const signature = ed25519.sign(privateKey, Buffer.from(ch.challenge, 'utf8'))
  return (
    await api<{ token: string }>('POST', '/api/v1/auth/card-login', undefined, {
      challengeId: ch.challengeId,
      signature,
    })
  ).token
}

/** Signs `page` in on the console's officer tab and (unless `wait` is false: a refusal expected) waits for the dashboard. */
export async function officerSignIn(page: Page, base: string, username: string, password: string, wait = true) {
  await page.goto(`${base}/login`)
  await page.getByRole('tab', { name: '海关关员' }).click()
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', password)
  await page.click('form button[type=submit]')
  if (wait) await page.waitForURL('**/officer/dashboard')
}

/** Full-page screenshots named `<prefix><name>.png` in ARTIFACTS. */
export const screenshots =
  (prefix: string) =>
  (page: Page, name: string): Promise<Buffer> =>
    page.screenshot({ path: join(ARTIFACTS, `${prefix}${name}.png`), fullPage: true })
