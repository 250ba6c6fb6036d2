import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../src/modules/auth/service.js'
import { ed25519 } from '../src/shared/signing.js'
import { fixedClock, systemIds } from '../src/shared/clock.js'
import { SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } from '../src/modules/ecommerce/xml.js'
import type { Db } from '../src/db/index.js'
import { freshDb } from './db.js'
import { randomUscc } from './factories.js'

const ROOT = join(import.meta.dirname, '..')
const EXAMPLES = join(ROOT, 'reference-data', 'ceb', 'examples')
const ORDER = 'SO202508180001'
const onPostgres = !!process.env.DATABASE_URL

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
      cwd: ROOT, env: { ...process.env, DATABASE_URL: url, PORT: String(p), KOUAN_LOG_LEVEL: 'warn', KOUAN_DB_POOL: '6', ...env }, stdio: 'inherit',
    })
    children.push(child)
    const base = `http://127.0.0.1:${p}`
    for (let i = 0; ; i++) {
      try { if ((await fetch(`${base}/api/v1/health`)).ok) break } catch { /* starting */ }
      if (i > 600) throw new Error(`${base} did not start`)
      await new Promise((r) => setTimeout(r, 100))
    }
    return { base, child }
  }
  const post = async (base: string, path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
    return { status: res.status, json: await res.json() as Record<string, any> }
  }
  const parties: Record<string, { cardNo: string; privateKey: string; token: string }> = {}
  const sendXml = (base: string, code: string, n: number) => {
    const xml = readFileSync(join(EXAMPLES, `CEB${n}Message.xml`), 'utf8')
    const parsed = parseCebXml(xml)
    if (!parsed.ok) throw new Error('example does not parse')
    const p = parties[code]!
    return post(base, '/api/v1/ceb/messages', xml, { 'content-type': 'application/xml', authorization: `Bearer ${p.token}`, [SIGNATURE_HEADER]: xmlSignatureHeader(p.cardNo, p.privateKey, parsed.message) })
  }
  const verdicts = async () => (await db.query<{ n: number }>(`select count(*)::int as n from audit_log where action = 'CEB_TICKET_VERDICT' and entity_id = $1`, [ORDER]))[0]!.n
  const waitFor = async (pred: () => Promise<boolean>) => {
    for (let i = 0; i < 300; i++) { if (await pred()) return; await new Promise((r) => setTimeout(r, 100)) }
    throw new Error(`timed out: ${JSON.stringify(await db.query('select order_no, return_status, reasons, complete from ceb_tickets'))} ${JSON.stringify(await db.query('select type, doc_key, order_no, deleted from ceb_documents'))} ${JSON.stringify(await db.query('select * from ceb_match_queue'))}`)
  }

  beforeAll(async () => {
    const fresh = await freshDb()
    db = fresh.db
    url = fresh.url!
    drop = fresh.drop
    await createUser(db, fixedClock('2026-01-01T00:00:00Z'), systemIds, { username: 'ceb-admin', password: 'ceb-admin-pw', role: 'admin' })
    await db.query(`insert into selectivity_params (version, effective_from, params, created_by, created_at)
      select 2, '1970-01-01', params || '{"minRandomRate": 0, "explorationRate": 0}'::jsonb, 'test', now() from selectivity_params where version = 1`)
  }, 120_000)

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))))
    await drop?.()
  })

  it('gives one verdict and one receipt set when two processes get the four documents at once', async () => {
    const a = await start()
    const b = await start()
    const admin = (await post(a.base, '/api/v1/auth/login', { username: 'ceb-admin', password: 'ceb-admin-pw' })).json.token as string
    for (const code of ['4601000EBP', '4601000EBC', '4601000PAY', '4601000LOG', '4601000AGT']) {
      const ent = await post(a.base, '/api/v1/enterprises', { uscc: randomUscc(), customsCode: code, name: code, registeredDistrict: '6400' }, { authorization: `Bearer ${admin}` })
      const keys = ed25519.generate()
      const card = (await post(a.base, '/api/v1/cards', { enterpriseId: ent.json.id, operatorName: code, publicKey: keys.publicKey }, { authorization: `Bearer ${admin}` })).json
      const ch = (await post(b.base, '/api/v1/auth/challenge', { cardNo: card.cardNo })).json
      const token = (await post(b.base, '/api/v1/auth/card-login', { challengeId: ch.challengeId, signature: ed25519.sign(keys.privateKey, Buffer.from(ch.challenge)) })).json.token
      parties[code] = { cardNo: card.cardNo, privateKey: keys.privateKey, token }
    }
    const res = await Promise.all([sendXml(a.base, '4601000EBC', 311), sendXml(b.base, '4601000PAY', 411), sendXml(a.base, '4601000LOG', 511), sendXml(b.base, '4601000AGT', 621)])
    expect(res.map((r) => r.status)).toEqual([200, 200, 200, 200])
    await waitFor(async () => (await db.query<{ s: number }>('select return_status as s from ceb_tickets where order_no = $1', [ORDER]))[0]?.s === 800)
    await new Promise((r) => setTimeout(r, 1500)) // both processes' sweeps run at least once more
    expect(await verdicts()).toBe(1)
    const rows = await db.query<{ type: string; statuses: number[] }>(
      `select type, array_agg(return_status order by id) as statuses from ceb_receipts where order_no = $1 group by type order by type`, [ORDER])
    expect(rows).toEqual([
      { type: 'CEB311', statuses: [2, 120] }, { type: 'CEB411', statuses: [2, 120] }, { type: 'CEB511', statuses: [2, 120] }, { type: 'CEB621', statuses: [2, 120, 399, 800] },
    ])
    a.child.kill('SIGTERM')
    b.child.kill('SIGTERM')
  }, 120_000)

  it('keeps what was received across a crash and matches it after the restart', async () => {
    await db.query(`delete from ceb_receipts; delete from ceb_documents; delete from ceb_tickets; delete from ceb_match_queue; delete from ceb_buyer_totals; delete from ceb_tax_bills`)
    // An intake-only process receives the four documents and is killed before anything matches them.
    const intake = await start({ KOUAN_CEB_MATCHING: 'false' })
    for (const [code, n] of [['4601000EBC', 311], ['4601000PAY', 411], ['4601000LOG', 511], ['4601000AGT', 621]] as const) {
      expect((await sendXml(intake.base, code, n)).status).toBe(200)
    }
    intake.child.kill('SIGKILL')
    await new Promise((r) => intake.child.once('exit', r))
    expect((await db.query<{ n: number }>('select count(*)::int as n from ceb_documents'))[0]!.n).toBe(4)
    expect((await db.query<{ n: number }>('select count(distinct order_no)::int as n from ceb_match_queue'))[0]!.n).toBe(1)
    // A restarted process finds the queued order and gives its verdict.
    await start()
    await waitFor(async () => (await db.query<{ s: number }>('select return_status as s from ceb_tickets where order_no = $1', [ORDER]))[0]?.s === 800)
    expect((await db.query<{ n: number }>('select count(*)::int as n from ceb_match_queue'))[0]!.n).toBe(0)
  }, 120_000)
})
