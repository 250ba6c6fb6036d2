import { afterEach, describe, expect, it } from 'vitest'
import { countRows, freshDb } from '../../test/db.js'
import type { Db, Tx } from '../db/index.js'
import { chainRows, rebuildChain, tamper } from '../../test/audit.js'
import { GENESIS_HASH, appendAudit, auditHash, auditTrail, verifyAudit, type AuditEvent } from './audit.js'

const T0 = new Date('2026-05-11T01:00:00.000Z')

interface LogRow {
  chain: number
  seq: number
  at: Date
  actor: string
  action: string
  entity_type: string
  entity_id: string
  data: Record<string, unknown>
  prev_hash: string
  hash: string
}

const event = (entityId: string, n: number, over: Partial<AuditEvent> = {}): AuditEvent => ({
  at: new Date(T0.getTime() + n * 1000),
  actor: 'user:tester',
  action: `TEST_${n}`,
  entityType: 'test',
  entityId,
  data: { n, note: `event ${n}` },
  ...over,
})

/** Appends `n` events for one entity, one transaction each: they land on one chain with seq 1..n. */
async function appendMany(db: Db, entityId: string, n: number): Promise<LogRow[]> {
  for (let i = 1; i <= n; i++)
    await db.transaction(async (tx) => {
      appendAudit(tx, event(entityId, i))
    })
  return rowsOf(db, entityId)
}

const rowsOf = (db: Db, entityId: string) =>
  db.query<LogRow>(
    'select chain, seq, at, actor, action, entity_type, entity_id, data, prev_hash, hash from audit_log where entity_id = $1 order by seq',
    [entityId],
  )

const head = async (db: Db, chain: number) =>
  (await db.query<{ seq: number; hash: string }>('select seq, hash from audit_heads where chain = $1', [chain]))[0]!

/** Each test gets its own freshly migrated database, so tampering in one cannot leak into another. */
const dbs: Array<{ drop(): Promise<void> }> = []
async function newDb(): Promise<Db> {
  const fresh = await freshDb()
  dbs.push(fresh)
  return fresh.db
}
afterEach(async () => {
  for (const d of dbs.splice(0)) await d.drop()
})

describe('appendAudit and the hash chain', () => {
  it('chains rows from genesis: seq 1..n, each prev_hash the previous hash, head at the last row', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-a', 3)
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3])
    expect(new Set(rows.map((r) => r.chain)).size).toBe(1)
    expect(rows[0]!.prev_hash).toBe(GENESIS_HASH)
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash)
    expect(rows[2]!.prev_hash).toBe(rows[1]!.hash)
    for (const r of rows) {
      expect(r.hash).toBe(
        auditHash(r.prev_hash, {
          chain: r.chain,
          seq: r.seq,
          at: new Date(r.at),
          actor: r.actor,
          action: r.action,
          entityType: r.entity_type,
          entityId: r.entity_id,
          data: r.data,
        }),
      )
    }
    expect(await head(db, rows[0]!.chain)).toEqual({ seq: 3, hash: rows[2]!.hash })
    expect(await verifyAudit(db)).toEqual({ rows: 3, problems: [] })
  })

  it('writes all events of one transaction to one chain, in order', async () => {
    const db = await newDb()
    await db.transaction(async (tx) => {
      appendAudit(tx, event('entity-b', 1))
      appendAudit(tx, event('some-other-entity', 2))
      appendAudit(tx, event('yet-another', 3))
    })
    const rows = await db.query<LogRow>('select chain, seq, action from audit_log order by seq')
    expect(rows.map((r) => [r.seq, r.action])).toEqual([
      [1, 'TEST_1'],
      [2, 'TEST_2'],
      [3, 'TEST_3'],
    ])
    expect(new Set(rows.map((r) => r.chain)).size).toBe(1)
    expect(await verifyAudit(db)).toEqual({ rows: 3, problems: [] })
  })

  it('verifies across pages when a chain is longer than the page size', async () => {
    const db = await newDb()
    await appendMany(db, 'entity-c', 5)
    expect(await verifyAudit(db, 2)).toEqual({ rows: 5, problems: [] })
  })

  it("returns an entity's trail oldest first", async () => {
    const db = await newDb()
    await appendMany(db, 'entity-d', 3)
    const trail = await auditTrail(db, 'test', 'entity-d')
    expect(trail.map((r) => r.action)).toEqual(['TEST_1', 'TEST_2', 'TEST_3'])
    expect(trail[1]).toMatchObject({
      actor: 'user:tester',
      entityType: 'test',
      entityId: 'entity-d',
      data: { n: 2, note: 'event 2' },
      prevHash: trail[0]!.hash,
    })
  })

  it('writes nothing when the transaction rolls back, neither the audit rows nor the change they describe', async () => {
    const db = await newDb()
    const before = await db.query('select chain, seq, hash from audit_heads order by chain')
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`insert into settings (key, value) values ('audit-test', '1'::jsonb)`)
        appendAudit(tx, event('entity-e', 1))
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await countRows(db, 'audit_log')).toBe(0)
    expect(await countRows(db, 'settings', `key = 'audit-test'`)).toBe(0)
    expect(await db.query('select chain, seq, hash from audit_heads order by chain')).toEqual(before)
    expect(await verifyAudit(db)).toEqual({ rows: 0, problems: [] })
  })

  it('refuses to record an event outside a transaction', async () => {
    const db = await newDb()
    expect(() => appendAudit(db as unknown as Tx, event('entity-f', 1))).toThrow('appendAudit needs a transaction')
    expect(() => appendAudit(undefined as unknown as Tx, event('entity-f', 1))).toThrow(
      'appendAudit needs a transaction',
    )
    expect(await countRows(db, 'audit_log')).toBe(0)
  })
})

describe('verifyAudit finds tampering', () => {
  it('reports HASH_MISMATCH for a row whose data was changed, and only for it', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-g', 3)
    const { chain } = rows[0]!
    await tamper(
      db,
      `update audit_log set data = '{"n": 2, "note": "rewritten"}'::jsonb where chain = $1 and seq = 2`,
      [chain],
    )
    expect((await verifyAudit(db)).problems).toEqual([{ chain, seq: 2, problem: 'HASH_MISMATCH' }])
  })

  it('reports HASH_MISMATCH for a row whose actor or time was changed', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-h', 3)
    const { chain } = rows[0]!
    await tamper(db, `update audit_log set actor = 'user:someone-else' where chain = $1 and seq = 1`, [chain])
    await tamper(db, `update audit_log set at = at + interval '1 second' where chain = $1 and seq = 3`, [chain])
    expect((await verifyAudit(db)).problems).toEqual([
      { chain, seq: 1, problem: 'HASH_MISMATCH' },
      { chain, seq: 3, problem: 'HASH_MISMATCH' },
    ])
  })

  it('reports the broken link when a row is rewritten together with its own hash', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-i', 3)
    const r = rows[1]!
    const data = { n: 2, note: 'rewritten' }
    const forged = auditHash(r.prev_hash, {
      chain: r.chain,
      seq: r.seq,
      at: new Date(r.at),
      actor: r.actor,
      action: r.action,
      entityType: r.entity_type,
      entityId: r.entity_id,
      data,
    })
    await tamper(db, 'update audit_log set data = $3::jsonb, hash = $4 where chain = $1 and seq = $2', [
      r.chain,
      r.seq,
      JSON.stringify(data),
      forged,
    ])
    expect((await verifyAudit(db)).problems).toEqual([{ chain: r.chain, seq: 3, problem: 'PREV_HASH_MISMATCH' }])
  })

  it('reports MISSING_ROW and PREV_HASH_MISMATCH when a middle row is deleted', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-j', 3)
    const { chain } = rows[0]!
    await tamper(db, 'delete from audit_log where chain = $1 and seq = 2', [chain])
    const v = await verifyAudit(db)
    expect(v.rows).toBe(2)
    expect(v.problems).toEqual([
      { chain, seq: 2, problem: 'MISSING_ROW' },
      { chain, seq: 3, problem: 'PREV_HASH_MISMATCH' },
    ])
  })

  it('reports HEAD_MISMATCH when the last row of a chain is deleted', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-k', 3)
    const { chain } = rows[0]!
    await tamper(db, 'delete from audit_log where chain = $1 and seq = 3', [chain])
    expect((await verifyAudit(db)).problems).toEqual([{ chain, seq: 3, problem: 'HEAD_MISMATCH' }])
  })

  it('reports HEAD_MISMATCH when a whole chain is deleted', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-l', 2)
    const { chain } = rows[0]!
    await tamper(db, 'delete from audit_log where chain = $1', [chain])
    expect(await verifyAudit(db)).toEqual({ rows: 0, problems: [{ chain, seq: 2, problem: 'HEAD_MISMATCH' }] })
  })

  it('keeps other chains clean when one is tampered with', async () => {
    const db = await newDb()
    // Append other entities until one lands on another chain (those on the same chain just extend it).
    const a = await appendMany(db, 'entity-m', 2)
    let b: LogRow[] = []
    for (let i = 0; !b[0] || b[0].chain === a[0]!.chain; i++) b = await appendMany(db, `other-${i}`, 1)
    await tamper(db, `update audit_log set action = 'FORGED' where chain = $1 and seq = 1`, [a[0]!.chain])
    const v = await verifyAudit(db)
    expect(v.problems).toEqual([{ chain: a[0]!.chain, seq: 1, problem: 'HASH_MISMATCH' }])
    expect(v.problems.some((p) => p.chain === b[0]!.chain)).toBe(false)
  })
})

/** Expects `sql` to be refused by the database with SQLSTATE 42501 and a message matching `message`. */
async function refused(db: Db, sql: string, message: RegExp, params: Parameters<Db['query']>[1] = []) {
  const err = await db.query(sql, params).then(
    () => undefined,
    (e: unknown) => e as { code?: string; message: string },
  )
  expect(err, sql).toBeDefined()
  expect(err!.message).toMatch(message)
  expect(err!.code).toBe('42501')
}

describe('the database keeps the log append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE of audit rows, through the parent and on a partition by name', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-n', 3)
    const { chain } = rows[0]!
    await refused(
      db,
      `update audit_log set actor = 'user:someone-else' where chain = $1 and seq = 2`,
      /audit_log is append-only: UPDATE refused/,
      [chain],
    )
    await refused(db, `update audit_log_2026 set data = '{}'::jsonb`, /audit_log is append-only: UPDATE refused/)
    await refused(
      db,
      'delete from audit_log where chain = $1 and seq = 3',
      /audit_log is append-only: DELETE refused/,
      [chain],
    )
    await refused(db, 'delete from audit_log_2026', /audit_log is append-only: DELETE refused/)
    await refused(db, 'truncate audit_log', /audit_log is append-only: TRUNCATE refused/)
    await refused(db, 'truncate audit_log_2026', /audit_log is append-only: TRUNCATE refused/)
    // Moving a row to another year's partition is an UPDATE too.
    await refused(
      db,
      `update audit_log set at = at - interval '1 year' where chain = $1 and seq = 1`,
      /UPDATE refused/,
      [chain],
    )
    expect(await rowsOf(db, 'entity-n')).toEqual(rows)
    expect(await verifyAudit(db)).toEqual({ rows: 3, problems: [] })
  })

  it('protects partitions made later by ensure_year_partitions the same way', async () => {
    const db = await newDb()
    await db.query(`select ensure_year_partitions('audit_log', 2041, 2041)`)
    await db.transaction(async (tx) => {
      appendAudit(tx, event('entity-o', 1, { at: new Date('2041-03-01T00:00:00Z') }))
    })
    await refused(db, 'truncate audit_log_2041', /audit_log is append-only: TRUNCATE refused/)
    await refused(db, 'delete from audit_log_2041', /audit_log is append-only: DELETE refused/)
    await refused(db, `update audit_log set actor = 'x' where at >= '2041-01-01'`, /UPDATE refused/)
    expect(await countRows(db, 'audit_log_2041')).toBe(1)
  })

  it('lets chain heads move only forward; a head moved onto rows that do not exist is reported by verification', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-p', 3)
    const { chain } = rows[0]!
    await refused(db, 'update audit_heads set seq = 2, hash = $2 where chain = $1', /cannot move from seq 3/, [
      chain,
      rows[1]!.hash,
    ])
    await refused(db, 'update audit_heads set seq = 3, hash = $2 where chain = $1', /cannot move from seq 3/, [
      chain,
      GENESIS_HASH,
    ])
    await refused(db, 'update audit_heads set chain = 15 - chain where chain = $1', /cannot move/, [chain])
    await refused(db, 'delete from audit_heads where chain = $1', /audit_heads: DELETE refused/, [chain])
    await refused(db, `insert into audit_heads (chain, seq, hash) values (16, 0, $1)`, /audit_heads: INSERT refused/, [
      GENESIS_HASH,
    ])
    await refused(db, 'truncate audit_heads', /audit_heads is append-only: TRUNCATE refused/)
    expect(await head(db, chain)).toEqual({ seq: 3, hash: rows[2]!.hash })
    // Appends still move it, many rows at once too.
    await db.transaction(async (tx) => {
      for (let i = 4; i <= 6; i++) appendAudit(tx, event('entity-p', i))
    })
    expect((await head(db, chain)).seq).toBe(6)
    expect(await verifyAudit(db)).toEqual({ rows: 6, problems: [] })
    // Forward onto nothing: allowed by the database, caught by the walk.
    await db.query('update audit_heads set seq = 9, hash = $2 where chain = $1', [chain, 'f'.repeat(64)])
    expect((await verifyAudit(db)).problems).toEqual([expect.objectContaining({ problem: 'HEAD_MISMATCH', chain })])
  })
})

describe('a rebuilt chain', () => {
  it('passes the walk of the database alone: an edited row with every later hash and the head recomputed', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-q', 5)
    const { chain } = rows[0]!
    await rebuildChain(db, chain, 2, { actor: 'user:someone-else', data: { n: 2, note: 'rewritten' } })
    const now = await chainRows(db, chain)
    expect(now[1]).toMatchObject({ actor: 'user:someone-else', data: { n: 2, note: 'rewritten' } })
    expect(now.map((r) => r.hash).slice(1)).not.toContain(rows[4]!.hash)
    // What checkpoints (below) are for: nothing in the database itself shows the rewrite.
    expect(await verifyAudit(db)).toEqual({ rows: 5, problems: [] })
  })

  it('is named by checkpoints taken before: chain, and the range its first rewritten row lies in', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-r', 6)
    const { chain } = rows[0]!
    const checkpoints = [1, 3, 5].map((seq) => ({ chain, seq, hash: rows[seq - 1]!.hash }))
    expect(await verifyAudit(db, 5000, checkpoints)).toEqual({ rows: 6, problems: [] })
    await rebuildChain(db, chain, 4, { action: 'FORGED' })
    expect(await verifyAudit(db, 2, checkpoints)).toEqual({
      rows: 6,
      problems: [{ chain, seq: 5, problem: 'CHECKPOINT_MISMATCH', firstDifferenceBetween: [4, 5] }],
    })
    // With a checkpoint at every row, the range is the row itself.
    const every = rows.map((r) => ({ chain, seq: r.seq, hash: r.hash }))
    expect((await verifyAudit(db, 5000, every)).problems).toEqual([
      { chain, seq: 4, problem: 'CHECKPOINT_MISMATCH', firstDifferenceBetween: [4, 4] },
    ])
  })

  it('is caught even when the stored hashes are left alone: checkpoints are compared with hashes recomputed from content', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-s', 3)
    const { chain } = rows[0]!
    await tamper(db, `update audit_log set data = '{"n": 1}'::jsonb where chain = $1 and seq = 1`, [chain])
    expect((await verifyAudit(db, 5000, [{ chain, seq: 3, hash: rows[2]!.hash }])).problems).toEqual([
      { chain, seq: 1, problem: 'HASH_MISMATCH' },
      { chain, seq: 3, problem: 'CHECKPOINT_MISMATCH', firstDifferenceBetween: [1, 3] },
    ])
  })

  it('reports CHECKPOINT_ROW_MISSING when the chain was cut back below a checkpoint and its head moved back', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-t', 4)
    const { chain } = rows[0]!
    await tamper(db, 'delete from audit_log where chain = $1 and seq > 2', [chain])
    await tamper(db, 'update audit_heads set seq = 2, hash = $2 where chain = $1', [chain, rows[1]!.hash])
    expect(await verifyAudit(db)).toEqual({ rows: 2, problems: [] })
    const checkpoints = [
      { chain, seq: 2, hash: rows[1]!.hash },
      { chain, seq: 4, hash: rows[3]!.hash },
    ]
    expect((await verifyAudit(db, 5000, checkpoints)).problems).toEqual([
      { chain, seq: 4, problem: 'CHECKPOINT_ROW_MISSING', firstDifferenceBetween: [3, 4] },
    ])
  })
})
