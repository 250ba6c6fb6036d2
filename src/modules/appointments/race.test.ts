/**
 * The capacity race (issue 14): 50 bookings sent at once into one slot with room for k accept exactly k, the others
 * get 409 SLOT_FULL, and the slot's `booked` count and the appointments table agree. Over real HTTP against the test
 * app (PGlite by default); on PostgreSQL (DATABASE_URL) also split between two `kouan serve` processes sharing the
 * database, where only the database can keep the count exact.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { T0, useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import { buildEnterprise, buildOperator, loginUser, type TestOperator } from '../../../test/factories.js'
import { createUser } from '../auth/service.js'
import { ed25519 } from '../../shared/signing.js'
import { systemIds } from '../../shared/clock.js'

const ROOT = join(import.meta.dirname, '..', '..', '..')
const N = 50
const SITE = '5301'

/** The China date (UTC+8, no DST) `days` after the China date of `at`. */
function chinaDate(at: Date, days: number): string {
  return new Date(at.getTime() + 8 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10)
}

/** The UTC instant a China hour starts. */
const slotStart = (date: string, hour: number) =>
  new Date(Date.parse(`${date}T${String(hour).padStart(2, '0')}:00:00+08:00`))

function booking(code: string, ref: string, date: string, hour: number) {
  return {
    clientRef: ref,
    enterpriseCode: code,
    contactName: 'Chen Jing',
    contactMobile: '13800138000',
    service: 'CLEARANCE',
    category: 'PERISHABLE',
    site: SITE,
    iePort: '5302',
    ieFlag: 'I',
    goods: [{ name: 'Fresh durians', hsCode: '08106000' }],
    transportMode: '4',
    date,
    hour,
    reason: 'chilled fruit arriving at night',
  }
}

async function post(url: string, path: string, body: unknown, token: string, method = 'POST') {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> }
}

const bearer = (h: { authorization: string }) => h.authorization.replace(/^Bearer /, '')

/** Sends the 50 bookings at once (round-robin over `targets`), all released together, and tallies the answers. */
async function race(
  targets: Array<{ url: string; ops: Array<{ code: string; token: string }> }>,
  tag: string,
  date: string,
  hour: number,
) {
  const sends = Array.from({ length: N }, (_, i) => {
    const target = targets[i % targets.length]!
    const op = target.ops[i % target.ops.length]!
    return () => post(target.url, '/api/v1/appointments', booking(op.code, `RACE-${tag}-${i}`, date, hour), op.token)
  })
  const results = await Promise.all(sends.map((send) => send()))
  const by = (s: number) => results.filter((r) => r.status === s)
  return { results, created: by(201), full: by(409) }
}

const onPostgres = !!process.env.DATABASE_URL

/** A port nobody listens on now (the OS picks it), for a server process to take. */
async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as { port: number }
  await new Promise((r) => srv.close(r))
  return port
}

describe('capacity race: 50 concurrent bookings into one slot', () => {
  const t = useTestApp()
  let url: string
  let officer: { headers: { authorization: string } }
  let ops: TestOperator[]

  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const addr = t.app.server.address()
    if (!addr || typeof addr === 'string') throw new Error('no address')
    url = `http://127.0.0.1:${addr.port}`
    const admin = await loginUser(t, 'admin')
    officer = await loginUser(t, 'officer')
    ops = []
    for (let i = 0; i < 5; i++) ops.push(await buildOperator(t, officer, await buildEnterprise(t, admin)))
  })

  async function check(
    date: string,
    hour: number,
    k: number,
    created: number,
    full: Array<{ json: Record<string, unknown> }>,
  ) {
    expect(created).toBe(k)
    expect(full).toHaveLength(N - k)
    for (const r of full) expect(r.json).toMatchObject({ code: 'SLOT_FULL', pointer: '/body/hour' })
    const day = await t.app.inject({
      method: 'GET',
      url: `/api/v1/appointment-slots?site=${SITE}&date=${date}`,
      headers: officer.headers,
    })
    expect(day.statusCode).toBe(200)
    const slot = (day.json().slots as Array<{ hour: number; booked: number; capacity: number }>).find(
      (s) => s.hour === hour,
    )
    expect(slot).toMatchObject({ capacity: k, booked: k })
    const at = slotStart(date, hour).toISOString()
    expect(await countRows(t.db, 'appointments', `site = $1 and slot_start = $2`, [SITE, at])).toBe(k)
    const [row] = await t.db.query<{ booked: number }>(
      `select booked from appointment_slots where site = $1 and starts_at = $2`,
      [SITE, at],
    )
    expect(row!.booked).toBe(k)
  }

  it('accepts exactly k of 50 parallel requests over HTTP (one process), the rest 409 SLOT_FULL', async () => {
    const k = 7
    // T0 is Monday 09:00 China time: Tuesday 22:00 is 37 h ahead and outside office hours.
    const date = chinaDate(new Date(T0), 1)
    const hour = 22
    const put = await post(
      url,
      '/api/v1/appointment-slots',
      { site: SITE, date, hours: [hour], capacity: k },
      bearer(officer.headers),
      'PUT',
    )
    expect(put.status).toBe(200)
    const { results, created, full } = await race(
      [{ url, ops: ops.map((o) => ({ code: o.enterprise.customsCode, token: bearer(o.headers) })) }],
      'one',
      date,
      hour,
    )
    expect(results.filter((r) => r.status !== 201 && r.status !== 409)).toEqual([])
    // Every accepted booking has its own number, all in the slot asked for.
    expect(new Set(created.map((r) => r.json.number)).size).toBe(k)
    for (const r of created) expect(r.json).toMatchObject({ site: SITE, date, hour, status: 'ACCEPTED' })
    await check(date, hour, k, created.length, full)
  })

  describe.skipIf(!onPostgres)('two API processes on one PostgreSQL database', () => {
    const servers: ChildProcess[] = []
    const urls: string[] = []
    const logins = { officer: 'race-officer', password: 'race-officer-secret' }

    beforeAll(async () => {
      if (!t.url) throw new Error('DATABASE_URL is set but the test database has no URL')
      await createUser(t.db, t.clock, systemIds, {
        username: logins.officer,
        password: logins.password,
        role: 'officer',
      })
      for (let i = 0; i < 2; i++) {
        const port = await freePort()
        const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'serve'], {
          cwd: ROOT,
          env: {
            ...process.env,
            DATABASE_URL: t.url,
            PORT: String(port),
            KOUAN_LOG_LEVEL: 'warn',
            KOUAN_DB_POOL: '10',
          },
          stdio: 'inherit',
        })
        servers.push(child)
        urls.push(`http://127.0.0.1:${port}`)
      }
      for (const u of urls) {
        for (let i = 0; ; i++) {
          try {
            if ((await fetch(`${u}/api/v1/health`)).ok) break
          } catch {
            /* starting */
          }
          if (i > 900) throw new Error(`${u} did not start`)
          await new Promise((r) => setTimeout(r, 100))
        }
      }
    }, 120_000)

    afterAll(async () => {
      for (const s of servers) s.kill('SIGTERM')
      await Promise.all(servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.once('exit', r)))))
    })

    /** Card login of an operator at one server (challenge and login through that process). */
    async function cardToken(u: string, op: TestOperator): Promise<string> {
      const ch = await post(u, '/api/v1/auth/challenge', { cardNo: op.cardNo }, '')
      const login = await post(
        u,
        '/api/v1/auth/card-login',
        {
          challengeId: ch.json.challengeId,
          signature: ed25519.sign(op.privateKey, Buffer.from(ch.json.challenge as string, 'utf8')),
        },
        '',
      )
      expect(login.status).toBe(200)
      return login.json.token as string
    }

    it('accepts exactly k of 50 requests split between the two processes, the rest 409 SLOT_FULL', async () => {
      const k = 9
      // The server processes run on the system clock: a slot three China days from now, at 22:00, is bookable.
      const date = chinaDate(new Date(), 3)
      const hour = 22
      const [a, b] = urls as [string, string]
      const officerToken = (
        await post(a, '/api/v1/auth/login', { username: logins.officer, password: logins.password }, '')
      ).json.token as string
      const put = await post(
        b,
        '/api/v1/appointment-slots',
        { site: SITE, date, hours: [hour], capacity: k },
        officerToken,
        'PUT',
      )
      expect(put.status).toBe(200)
      const targets = []
      for (const u of urls)
        targets.push({
          url: u,
          ops: await Promise.all(
            ops.map(async (o) => ({ code: o.enterprise.customsCode, token: await cardToken(u, o) })),
          ),
        })
      const { results, created, full } = await race(targets, 'two', date, hour)
      expect(results.filter((r) => r.status !== 201 && r.status !== 409)).toEqual([])
      expect(new Set(created.map((r) => r.json.number)).size).toBe(k)
      await check(date, hour, k, created.length, full)
    })
  })
})
