import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { loadReference } from '../src/modules/reference/data.js'
import { invalidateSelectivityCache } from '../src/modules/selectivity/service.js'
import { createUser } from '../src/modules/auth/service.js'
import { ed25519 } from '../src/shared/signing.js'
import { fixedClock, systemIds } from '../src/shared/clock.js'
import { receiptsOf } from '../src/modules/ecommerce/service.js'
import { SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } from '../src/modules/ecommerce/xml.js'
import type { Db } from '../src/db/index.js'
import { freshDb } from './db.js'
import { randomUscc } from './factories.js'

/** An order's receipt statuses per document type, in the order they were issued (what the receipts API shows). */
async function statusesByType(db: Db, orderNo: string): Promise<Array<{ type: string; statuses: number[] }>> {
  const by = new Map<string, number[]>()
  for (const r of await receiptsOf(db, orderNo)) by.set(r.type, [...(by.get(r.type) ?? []), r.returnStatus])
  return [...by].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, statuses]) => ({ type, statuses }))
}

const ROOT = join(import.meta.dirname, '..')
const EXAMPLES = join(ROOT, 'reference-data', 'ceb', 'examples')
const ORDER = 'SO202508180001'
const onPostgres = !!process.env.DATABASE_URL

/**
 * Two apps on one database in one process: the path PGlite takes (it cannot be shared by two processes — a second
 * process opening the same data directory is not refused, and each then sees only its own writes, the last to close
 * overwriting the other's: ARCHITECTURE "Processes"). Runs on PostgreSQL too. The four documents arrive at once
 * through both apps; then the order is queued many times over and both apps match at once.
 */
describe("CEB from two apps on one database (PGlite's path)", () => {
  let db: Db
  let drop: () => Promise<void>
  const apps: FastifyInstance[] = []
  const parties: Record<string, { cardNo: string; privateKey: string; headers: Record<string, string> }> = {}

  beforeAll(async () => {
    invalidateSelectivityCache()
    const fresh = await freshDb()
    db = fresh.db
    drop = fresh.drop
    const clock = fixedClock('2026-05-11T01:00:00.000Z')
    for (let i = 0; i < 2; i++) {
      // Matching on (inline), no sweep interference: the sweep runs each second and finds the queue empty.
      apps.push(
        await buildApp(loadConfig({}, { logLevel: 'silent', cebMatching: true }), {
          db,
          clock,
          ids: systemIds,
          reference: loadReference(),
        }),
      )
    }
    await createUser(db, clock, systemIds, { username: 'two-apps-admin', password: 'two-apps-admin-pw', role: 'admin' })
    const admin = {
      authorization: `Bearer ${(await apps[0]!.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'two-apps-admin', password: 'two-apps-admin-pw' } })).json().token}`,
    }
    const params = (await apps[0]!.inject({ method: 'GET', url: '/api/v1/selectivity/params', headers: admin })).json()
      .params
    await apps[1]!.inject({
      method: 'PUT',
      url: '/api/v1/selectivity/params',
      headers: admin,
      payload: { params: { ...params, minRandomRate: 0, explorationRate: 0 } },
    })
    invalidateSelectivityCache()
    for (const [i, code] of ['4601000EBP', '4601000EBC', '4601000PAY', '4601000LOG', '4601000AGT'].entries()) {
      const app = apps[i % 2]!
      const ent = await app.inject({
        method: 'POST',
        url: '/api/v1/enterprises',
        headers: admin,
        payload: { uscc: randomUscc(), customsCode: code, name: code, registeredDistrict: '6400' },
      })
      const keys = ed25519.generate()
      const card = (
        await app.inject({
          method: 'POST',
          url: '/api/v1/cards',
          headers: admin,
          payload: { enterpriseId: ent.json().id, operatorName: code, publicKey: keys.publicKey },
        })
      ).json()
      const ch = (
        await apps[(i + 1) % 2]!.inject({
          method: 'POST',
          url: '/api/v1/auth/challenge',
          payload: { cardNo: card.cardNo },
        })
      ).json()
      const token = (
        await apps[(i + 1) % 2]!.inject({
          method: 'POST',
          url: '/api/v1/auth/card-login',
          payload: { challengeId: ch.challengeId, signature: ed25519.sign(keys.privateKey, Buffer.from(ch.challenge)) },
        })
      ).json().token
      parties[code] = {
        cardNo: card.cardNo,
        privateKey: keys.privateKey,
        headers: { authorization: `Bearer ${token}` },
      }
    }
  }, 120_000)

  afterAll(async () => {
    for (const app of apps) await app.close()
    await drop?.()
  })

  const send = (app: FastifyInstance, code: string, n: number, orderNo = ORDER) => {
    const xml = readFileSync(join(EXAMPLES, `CEB${n}Message.xml`), 'utf8').replaceAll(ORDER, orderNo)
    const parsed = parseCebXml(xml)
    if (!parsed.ok) throw new Error('example does not parse')
    const p = parties[code]!
    return app.inject({
      method: 'POST',
      url: '/api/v1/ceb/messages',
      headers: {
        ...p.headers,
        'content-type': 'application/xml',
        [SIGNATURE_HEADER]: xmlSignatureHeader(p.cardNo, p.privateKey, parsed.message),
      },
      payload: xml,
    })
  }
  const count = async (sql: string, params: unknown[] = []) =>
    (await db.query<{ n: number }>(`select count(*)::int as n from ${sql}`, params as never[]))[0]!.n

  it('gives one verdict and one receipt set when the four documents arrive at once through both', async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance]
    const res = await Promise.all([
      send(a, '4601000AGT', 621),
      send(b, '4601000LOG', 511),
      send(a, '4601000PAY', 411),
      send(b, '4601000EBC', 311),
    ])
    expect(res.map((r) => r.statusCode)).toEqual([200, 200, 200, 200])
    // All four committed (answered); the verdict is inline and the queue holds nothing that could give another.
    expect(await count('ceb_match_queue')).toBe(0)
    expect(await count(`ceb_tickets where order_no = $1 and return_status = 800 and present = 15`, [ORDER])).toBe(1)
    expect(await count(`audit_log where action = 'CEB_TICKET_VERDICT' and entity_id = $1`, [ORDER])).toBe(1)
    expect(await statusesByType(db, ORDER)).toEqual([
      { type: 'CEB311', statuses: [2, 120] },
      { type: 'CEB411', statuses: [2, 120] },
      { type: 'CEB511', statuses: [2, 120] },
      { type: 'CEB621', statuses: [2, 120, 399, 800] },
    ])
    expect(await count('ceb_tax_bills where order_no = $1', [ORDER])).toBe(1)
  }, 120_000)

  it('gives one verdict when both match a many-times-queued order at once', async () => {
    const other = 'SO202508180009'
    // Received by intake only (queued, not matched), in either app, then queued five times more.
    const ctx = (app: FastifyInstance) => app.kouan
    const { receiveMessage, matchQueued } = await import('../src/modules/ecommerce/service.js')
    for (const [i, [code, n]] of (
      [
        ['4601000EBC', 311],
        ['4601000PAY', 411],
        ['4601000LOG', 511],
        ['4601000AGT', 621],
      ] as const
    ).entries()) {
      const xml = readFileSync(join(EXAMPLES, `CEB${n}Message.xml`), 'utf8')
        .replaceAll(ORDER, other)
        .replace('<ceb:logisticsNo>', '<ceb:logisticsNo>9')
        .replace('<ceb:payTransactionId>', '<ceb:payTransactionId>9')
        .replace('<ceb:copNo>', '<ceb:copNo>9')
      const parsed = parseCebXml(xml)
      if (!parsed.ok) throw new Error('example does not parse')
      const p = parties[code]!
      const [, alg, value] = xmlSignatureHeader(p.cardNo, p.privateKey, parsed.message).split(';')
      const [card] = await db.query<{ id: string }>('select id from port_cards where card_no = $1', [p.cardNo])
      const r = await receiveMessage(
        ctx(apps[i % 2]!),
        card!.id,
        parsed.message,
        { cardNo: p.cardNo, alg: alg!, value: value! },
        'queue',
      )
      expect('receipts' in r).toBe(true)
    }
    await db.query(`insert into ceb_match_queue (order_no, enqueued_at) select $1, now() from generate_series(1, 5)`, [
      other,
    ])
    expect(await count('ceb_match_queue where order_no = $1', [other])).toBe(6)
    // Four matching calls at once, through both apps; the apps' own sweeps (every second) may take rows too, and on a
    // busy machine can be first: what must hold is one verdict whoever matched.
    await Promise.all([
      matchQueued(ctx(apps[0]!), 2),
      matchQueued(ctx(apps[1]!), 2),
      matchQueued(ctx(apps[0]!), 2),
      matchQueued(ctx(apps[1]!), 2),
    ])
    expect(await count('ceb_match_queue')).toBe(0)
    expect(await count(`ceb_tickets where order_no = $1 and return_status = 800`, [other])).toBe(1)
    expect(await count(`audit_log where action = 'CEB_TICKET_VERDICT' and entity_id = $1`, [other])).toBe(1)
    expect((await receiptsOf(db, other)).filter((r) => r.returnStatus === 800)).toHaveLength(1)
  }, 120_000)
})

/** Servers on one PostgreSQL: simultaneous documents, and a crash between receipt and matching. */
describe.skipIf(!onPostgres)('CEB across processes and crashes', () => {
  let db: Db
  let url: string
  let drop: () => Promise<void>
  const children: ChildProcess[] = []
  let port = 33_000 + (process.pid % 500) * 4

  const start = async (env: Record<string, string> = {}) => {
    const p = port++
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'serve'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url, PORT: String(p), KOUAN_LOG_LEVEL: 'warn', KOUAN_DB_POOL: '6', ...env },
      stdio: 'inherit',
    })
    children.push(child)
    const base = `http://127.0.0.1:${p}`
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/api/v1/health`)).ok) break
      } catch {
        /* starting */
      }
      if (i > 600) throw new Error(`${base} did not start`)
      await new Promise((r) => setTimeout(r, 100))
    }
    return { base, child }
  }
  const post = async (base: string, path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
    return { status: res.status, json: (await res.json()) as Record<string, unknown> }
  }
  const parties: Record<string, { cardNo: string; privateKey: string; token: string }> = {}
  const sendXml = (base: string, code: string, n: number) => {
    const xml = readFileSync(join(EXAMPLES, `CEB${n}Message.xml`), 'utf8')
    const parsed = parseCebXml(xml)
    if (!parsed.ok) throw new Error('example does not parse')
    const p = parties[code]!
    return post(base, '/api/v1/ceb/messages', xml, {
      'content-type': 'application/xml',
      authorization: `Bearer ${p.token}`,
      [SIGNATURE_HEADER]: xmlSignatureHeader(p.cardNo, p.privateKey, parsed.message),
    })
  }
  const queued = async () => (await db.query<{ n: number }>('select count(*)::int as n from ceb_match_queue'))[0]!.n
  const verdicts = async () =>
    (
      await db.query<{ n: number }>(
        `select count(*)::int as n from audit_log where action = 'CEB_TICKET_VERDICT' and entity_id = $1`,
        [ORDER],
      )
    )[0]!.n
  const waitFor = async (pred: () => Promise<boolean>) => {
    for (let i = 0; i < 300; i++) {
      if (await pred()) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(
      `timed out: ${JSON.stringify(await db.query('select order_no, return_status, reasons, complete from ceb_tickets'))} ${JSON.stringify(await db.query('select type, doc_key, order_no, deleted from ceb_documents'))} ${JSON.stringify(await db.query('select * from ceb_match_queue'))}`,
    )
  }

  beforeAll(async () => {
    const fresh = await freshDb()
    db = fresh.db
    url = fresh.url!
    drop = fresh.drop
    await createUser(db, fixedClock('2026-01-01T00:00:00Z'), systemIds, {
      username: 'ceb-admin',
      password: 'ceb-admin-pw',
      role: 'admin',
    })
    await db.query(`insert into selectivity_params (version, effective_from, params, created_by, created_at)
      select 2, '1970-01-01', params || '{"minRandomRate": 0, "explorationRate": 0}'::jsonb, 'test', now() from selectivity_params where version = 1`)
  }, 120_000)

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    await Promise.all(
      children.map(
        (c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r))),
      ),
    )
    await drop?.()
  })

  it('gives one verdict and one receipt set when two processes get the four documents at once', async () => {
    const a = await start()
    const b = await start()
    const admin = (await post(a.base, '/api/v1/auth/login', { username: 'ceb-admin', password: 'ceb-admin-pw' })).json
      .token as string
    for (const code of ['4601000EBP', '4601000EBC', '4601000PAY', '4601000LOG', '4601000AGT']) {
      const ent = await post(
        a.base,
        '/api/v1/enterprises',
        { uscc: randomUscc(), customsCode: code, name: code, registeredDistrict: '6400' },
        { authorization: `Bearer ${admin}` },
      )
      const keys = ed25519.generate()
      const card = (
        await post(
          a.base,
          '/api/v1/cards',
          { enterpriseId: ent.json.id, operatorName: code, publicKey: keys.publicKey },
          { authorization: `Bearer ${admin}` },
        )
      ).json
      const ch = (await post(b.base, '/api/v1/auth/challenge', { cardNo: card.cardNo })).json
      const token = (
        await post(b.base, '/api/v1/auth/card-login', {
          challengeId: ch.challengeId,
          signature: ed25519.sign(keys.privateKey, Buffer.from(ch.challenge as string)),
        })
      ).json.token as string
      parties[code] = { cardNo: card.cardNo as string, privateKey: keys.privateKey, token }
    }
    const res = await Promise.all([
      sendXml(a.base, '4601000EBC', 311),
      sendXml(b.base, '4601000PAY', 411),
      sendXml(a.base, '4601000LOG', 511),
      sendXml(b.base, '4601000AGT', 621),
    ])
    expect(res.map((r) => r.status)).toEqual([200, 200, 200, 200])
    // No sleep: every intake transaction has committed (each answered), the verdict is given inline, and nothing
    // else can give one but a row of the match queue. The barrier is therefore an empty queue, observed in the
    // database: a row a sweep is working on stays visible until the sweep's transaction (verdict included) commits.
    expect(await queued()).toBe(0)
    expect(
      (await db.query<{ s: number }>('select return_status as s from ceb_tickets where order_no = $1', [ORDER]))[0]?.s,
    ).toBe(800)
    expect(await verdicts()).toBe(1)
    expect(await statusesByType(db, ORDER)).toEqual([
      { type: 'CEB311', statuses: [2, 120] },
      { type: 'CEB411', statuses: [2, 120] },
      { type: 'CEB511', statuses: [2, 120] },
      { type: 'CEB621', statuses: [2, 120, 399, 800] },
    ])
    a.child.kill('SIGTERM')
    b.child.kill('SIGTERM')
  }, 120_000)

  it('keeps what was received across a crash and matches it after the restart', async () => {
    await db.query(
      `delete from ceb_receipts; delete from ceb_documents; delete from ceb_tickets; delete from ceb_match_queue; delete from ceb_buyer_totals; delete from ceb_tax_bills`,
    )
    // An intake-only process receives the four documents and is killed before anything matches them.
    const intake = await start({ KOUAN_CEB_MATCHING: 'false' })
    for (const [code, n] of [
      ['4601000EBC', 311],
      ['4601000PAY', 411],
      ['4601000LOG', 511],
      ['4601000AGT', 621],
    ] as const) {
      expect((await sendXml(intake.base, code, n)).status).toBe(200)
    }
    intake.child.kill('SIGKILL')
    await new Promise((r) => intake.child.once('exit', r))
    expect((await db.query<{ n: number }>('select count(*)::int as n from ceb_documents'))[0]!.n).toBe(4)
    expect(
      (await db.query<{ n: number }>('select count(distinct order_no)::int as n from ceb_match_queue'))[0]!.n,
    ).toBe(1)
    // The same order queued several times over (as changes racing a sweep leave it), then two matching processes at
    // once: they share the queue with SKIP LOCKED, and the order gets one verdict.
    await db.query(`insert into ceb_match_queue (order_no, enqueued_at) select $1, now() from generate_series(1, 5)`, [
      ORDER,
    ])
    const before = await verdicts()
    await Promise.all([start(), start()])
    // Barrier: the queue drained (rows leave it only in the transaction that gave their verdict).
    await waitFor(async () => (await queued()) === 0)
    expect(
      (await db.query<{ s: number }>('select return_status as s from ceb_tickets where order_no = $1', [ORDER]))[0]?.s,
    ).toBe(800)
    expect(await verdicts()).toBe(before + 1)
    expect((await receiptsOf(db, ORDER)).filter((r) => r.returnStatus === 800)).toHaveLength(1)
  }, 120_000)
})
