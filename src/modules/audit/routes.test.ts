import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { rebuildChain, tamper } from '../../../test/audit.js'
import { freshDb } from '../../../test/db.js'
import { buildEnterprise, buildOperator, loginUser } from '../../../test/factories.js'
import { openPglite, type Db } from '../../db/index.js'
import { appendAudit } from '../../shared/audit.js'
import { checkCheckpoints } from './checkpoints.js'
import { takeCheckpoints } from './service.js'
import { cli } from '../../../test/cli.js'

describe('GET /api/v1/audit/checkpoints and /checkpoint-keys', () => {
  const t = useTestApp()

  it('serve admins the signed checkpoints page by page, and their keys; others are refused', async () => {
    const admin = await loginUser(t, 'admin')
    const officer = await loginUser(t, 'officer')
    const op = await buildOperator(t, admin, await buildEnterprise(t, admin))
    // Setting up wrote audit rows on several chains; a checkpoint signs each head.
    const { written, kid } = await takeCheckpoints(t.app.kouan)
    expect(written).toBeGreaterThan(1)

    const first = await t.app.inject({
      method: 'GET',
      url: '/api/v1/audit/checkpoints?limit=1',
      headers: admin.headers,
    })
    expect(first.statusCode).toBe(200)
    const items = [...first.json().items]
    let next: string | null = first.json().next
    while (next) {
      const page = await t.app.inject({
        method: 'GET',
        url: `/api/v1/audit/checkpoints?limit=1&after=${next}`,
        headers: admin.headers,
      })
      expect(page.statusCode).toBe(200)
      items.push(...page.json().items)
      next = page.json().next
    }
    expect(items).toHaveLength(written)
    expect(items[0]).toEqual({
      chain: expect.any(Number),
      seq: expect.any(Number),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      at: t.clock.now().toISOString(),
      kid,
      alg: 'Ed25519',
      publicKey: expect.any(String),
      signature: expect.any(String),
    })
    const all = await t.app.inject({ method: 'GET', url: '/api/v1/audit/checkpoints', headers: admin.headers })
    expect(all.json()).toEqual({ items, next: null })
    expect(checkCheckpoints(items.map((c) => JSON.stringify(c)).join('\n'), { kids: [kid] }).problems).toEqual([])

    const keys = await t.app.inject({ method: 'GET', url: '/api/v1/audit/checkpoint-keys', headers: admin.headers })
    expect(keys.statusCode).toBe(200)
    expect(keys.json().items).toEqual([
      {
        kid,
        alg: 'Ed25519',
        publicKey: items[0].publicKey,
        status: 'ACTIVE',
        activatedAt: t.clock.now().toISOString(),
        retiredAt: null,
      },
    ])

    for (const url of ['/api/v1/audit/checkpoints', '/api/v1/audit/checkpoint-keys']) {
      expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401)
      expect((await t.app.inject({ method: 'GET', url, headers: officer.headers })).json()).toMatchObject({
        statusCode: 403,
        code: 'FORBIDDEN',
      })
      expect((await t.app.inject({ method: 'GET', url, headers: op.headers })).json()).toMatchObject({
        statusCode: 403,
        code: 'FORBIDDEN',
      })
    }
  })

  it('answers a cursor it did not issue with 400 AUDIT_CURSOR_INVALID', async () => {
    const admin = await loginUser(t, 'admin')
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/audit/checkpoints?after=${Buffer.from('yesterday|1').toString('base64url')}`,
      headers: admin.headers,
    })
    expect(res.json()).toMatchObject({ statusCode: 400, code: 'AUDIT_CURSOR_INVALID', pointer: '/querystring/after' })
  })
})

describe('POST /api/v1/audit/verify', () => {
  const t = useTestApp()

  it('runs what kouan audit verify runs: a clean log passes; checkpoints catch a rebuilt chain; a changed row is named', async () => {
    const admin = await loginUser(t, 'admin')
    const officer = await loginUser(t, 'officer')
    await buildOperator(t, admin, await buildEnterprise(t, admin))
    const verify = (body?: object, headers = admin.headers) =>
      t.app.inject({ method: 'POST', url: '/api/v1/audit/verify', headers, ...(body ? { payload: body } : {}) })
    expect((await verify(undefined, officer.headers)).statusCode).toBe(403)

    const clean = await verify()
    expect(clean.statusCode).toBe(200)
    const rows = (await t.db.query<{ n: number }>('select count(*)::int as n from audit_log'))[0]!.n
    expect(clean.json()).toEqual({ ok: true, chains: 16, rows, problems: [], triggers: [] })

    // Against the exported checkpoints, pinned: a chain rebuilt afterwards passes the plain walk, not this one.
    const { kid } = await takeCheckpoints(t.app.kouan)
    const page = (
      await t.app.inject({ method: 'GET', url: '/api/v1/audit/checkpoints', headers: admin.headers })
    ).json()
    const text = page.items.map((c: object) => JSON.stringify(c)).join('\n')
    expect((await verify({ checkpoints: text, trust: [kid] })).json()).toMatchObject({
      ok: true,
      checkpoints: { used: page.items.length, problems: [], keys: [{ kid, pinned: true }] },
    })
    const [row] = await t.db.query<{ chain: number; seq: number }>(
      `select chain, seq from audit_log where action = 'ENTERPRISE_REGISTERED' order by chain, seq limit 1`,
    )
    await rebuildChain(t.db, row!.chain, row!.seq, { actor: 'user:someone-else' })
    expect((await verify({})).json()).toMatchObject({ ok: true, problems: [] })
    const caught = (await verify({ checkpoints: text, trust: [kid] })).json()
    expect(caught).toMatchObject({ ok: false })
    expect(caught.problems).toEqual([
      expect.objectContaining({
        chain: row!.chain,
        problem: 'CHECKPOINT_MISMATCH',
        firstDifferenceBetween: [1, expect.any(Number)],
      }),
    ])

    // A row changed in place (triggers bypassed) is named by chain and seq.
    await tamper(t.db, `update audit_log set actor = 'user:nobody' where chain = $1 and seq = $2`, [
      row!.chain,
      row!.seq,
    ])
    const altered = (await verify()).json()
    expect(altered.ok).toBe(false)
    expect(altered.problems).toContainEqual({ chain: row!.chain, seq: row!.seq, problem: 'HASH_MISMATCH' })
  })
})

/**
 * A database the CLI can open in its own process: PostgreSQL by URL, or PGlite in a data directory (closed here
 * while the CLI runs, since PGlite belongs to one process).
 */
async function cliDatabase(): Promise<{
  env: Record<string, string>
  use<T>(fn: (db: Db) => Promise<T>): Promise<T>
  drop(): Promise<void>
}> {
  const cfg = inject('db')
  if (cfg.kind === 'postgres') {
    const fresh = await freshDb()
    return { env: { DATABASE_URL: fresh.url! }, use: (fn) => fn(fresh.db), drop: fresh.drop }
  }
  const dir = mkdtempSync(join(tmpdir(), 'kouan-audit-cli-'))
  const dataDir = join(dir, 'data')
  let loaded = false
  return {
    env: { KOUAN_DATA_DIR: dataDir },
    use: async (fn) => {
      const db = await openPglite(dataDir, loaded ? undefined : new Blob([readFileSync(cfg.dump)]))
      loaded = true
      try {
        return await fn(db)
      } finally {
        await db.close()
      }
    },
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

describe('kouan audit checkpoints export and kouan audit verify --checkpoints', () => {
  it('round-trip: the export verifies the log, and names a chain rebuilt afterwards that plain verify passes', async () => {
    const d = await cliDatabase()
    const dir = mkdtempSync(join(tmpdir(), 'kouan-audit-export-'))
    try {
      const at = new Date('2026-05-11T01:00:00Z')
      const chain = await d.use(async (db) => {
        for (const id of ['decl-1', 'decl-2', 'decl-3', 'decl-1'])
          await db.transaction(async (tx) => {
            appendAudit(tx, {
              at,
              actor: 'user:tester',
              action: 'TESTED',
              entityType: 'test',
              entityId: id,
              data: { id },
            })
          })
        return (await db.query<{ chain: number }>(`select chain from audit_log where entity_id = 'decl-1' limit 1`))[0]!
          .chain
      })
      const take = await cli(d.env, 'audit', 'checkpoints', 'take')
      expect(take.code, take.err).toBe(0)
      const { written, kid } = JSON.parse(take.out) as { written: number; kid: string }
      const file = join(dir, 'checkpoints.jsonl')
      const exported = await cli(d.env, 'audit', 'checkpoints', 'export', '-o', file)
      expect(exported.code, exported.err).toBe(0)
      expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(written)
      const keys = await cli(d.env, 'audit', 'checkpoints', 'keys')
      expect(keys.code, keys.err).toBe(0)
      const keysFile = join(dir, 'keys.json')
      writeFileSync(keysFile, keys.out)

      const clean = await cli(d.env, 'audit', 'verify', '--checkpoints', file, '--trust', kid)
      expect(clean.code, clean.out + clean.err).toBe(0)
      expect(JSON.parse(clean.out)).toMatchObject({
        ok: true,
        problems: [],
        triggers: [],
        checkpoints: { lines: written, used: written, problems: [], keys: [{ kid, pinned: true }] },
      })

      const seq = await d.use(async (db) => {
        const [{ seq: s }] = (await db.query<{ seq: number }>(
          `select seq from audit_log where chain = $1 and entity_id = 'decl-1' order by seq limit 1`,
          [chain],
        )) as [{ seq: number }]
        await rebuildChain(db, chain, s, { actor: 'user:someone-else' })
        return (await db.query<{ seq: number }>('select seq from audit_checkpoints where chain = $1', [chain]))[0]!.seq
      })
      const plain = await cli(d.env, 'audit', 'verify')
      expect(plain.code, plain.out + plain.err).toBe(0)
      const caught = await cli(d.env, 'audit', 'verify', '--checkpoints', file, '--keys', keysFile)
      expect(caught.code).toBe(1)
      expect(JSON.parse(caught.out)).toMatchObject({
        ok: false,
        problems: [{ chain, seq, problem: 'CHECKPOINT_MISMATCH', firstDifferenceBetween: [1, seq] }],
        checkpoints: { keys: [{ kid, pinned: true }] },
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
      await d.drop()
    }
  }, 300_000)
})
