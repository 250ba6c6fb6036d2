import { afterEach, describe, expect, it } from 'vitest'
import { countRows, freshDb } from '../../test/db.js'
import type { Db, Tx } from '../db/index.js'
import { GENESIS_HASH, appendAudit, auditHash, auditTrail, verifyAudit, type AuditEvent } from './audit.js'

const T0 = new Date('2026-05-11T01:00:00.000Z')

interface LogRow { chain: number; seq: number; at: Date; actor: string; action: string; entity_type: string; entity_id: string; data: Record<string, unknown>; prev_hash: string; hash: string }

const event = (entityId: string, n: number, over: Partial<AuditEvent> = {}): AuditEvent => ({
  at: new Date(T0.getTime() + n * 1000), actor: 'user:tester', action: `TEST_${n}`, entityType: 'test', entityId, data: { n, note: `event ${n}` }, ...over,
})

/** Appends `n` events for one entity, one transaction each: they land on one chain with seq 1..n. */
async function appendMany(db: Db, entityId: string, n: number): Promise<LogRow[]> {
  for (let i = 1; i <= n; i++) await db.transaction(async (tx) => { appendAudit(tx, event(entityId, i)) })
  return rowsOf(db, entityId)
}

const rowsOf = (db: Db, entityId: string) =>
  db.query<LogRow>('select chain, seq, at, actor, action, entity_type, entity_id, data, prev_hash, hash from audit_log where entity_id = $1 order by seq', [entityId])

const head = async (db: Db, chain: number) => (await db.query<{ seq: number; hash: string }>('select seq, hash from audit_heads where chain = $1', [chain]))[0]!

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
      expect(r.hash).toBe(auditHash(r.prev_hash, { chain: r.chain, seq: r.seq, at: new Date(r.at), actor: r.actor, action: r.action, entityType: r.entity_type, entityId: r.entity_id, data: r.data }))
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
    expect(rows.map((r) => [r.seq, r.action])).toEqual([[1, 'TEST_1'], [2, 'TEST_2'], [3, 'TEST_3']])
    expect(new Set(rows.map((r) => r.chain)).size).toBe(1)
    expect(await verifyAudit(db)).toEqual({ rows: 3, problems: [] })
  })

  it('verifies across pages when a chain is longer than the page size', async () => {
    const db = await newDb()
    await appendMany(db, 'entity-c', 5)
    expect(await verifyAudit(db, 2)).toEqual({ rows: 5, problems: [] })
  })

  it('returns an entity\'s trail oldest first', async () => {
    const db = await newDb()
    await appendMany(db, 'entity-d', 3)
    const trail = await auditTrail(db, 'test', 'entity-d')
    expect(trail.map((r) => r.action)).toEqual(['TEST_1', 'TEST_2', 'TEST_3'])
    expect(trail[1]).toMatchObject({ actor: 'user:tester', entityType: 'test', entityId: 'entity-d', data: { n: 2, note: 'event 2' }, prevHash: trail[0]!.hash })
  })

  it('writes nothing when the transaction rolls back, neither the audit rows nor the change they describe', async () => {
    const db = await newDb()
    const before = await db.query('select chain, seq, hash from audit_heads order by chain')
    await expect(db.transaction(async (tx) => {
      await tx.query(`insert into settings (key, value) values ('audit-test', '1'::jsonb)`)
      appendAudit(tx, event('entity-e', 1))
      throw new Error('boom')
    })).rejects.toThrow('boom')
    expect(await countRows(db, 'audit_log')).toBe(0)
    expect(await countRows(db, 'settings', `key = 'audit-test'`)).toBe(0)
    expect(await db.query('select chain, seq, hash from audit_heads order by chain')).toEqual(before)
    expect(await verifyAudit(db)).toEqual({ rows: 0, problems: [] })
  })

  it('refuses to record an event outside a transaction', async () => {
    const db = await newDb()
    expect(() => appendAudit(db as unknown as Tx, event('entity-f', 1))).toThrow('appendAudit needs a transaction')
    expect(() => appendAudit(undefined as unknown as Tx, event('entity-f', 1))).toThrow('appendAudit needs a transaction')
    expect(await countRows(db, 'audit_log')).toBe(0)
  })
})

describe('verifyAudit finds tampering', () => {
  it('reports HASH_MISMATCH for a row whose data was changed, and only for it', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-g', 3)
    const { chain } = rows[0]!
    await db.query(`update audit_log set data = '{"n": 2, "note": "rewritten"}'::jsonb where chain = $1 and seq = 2`, [chain])
    expect((await verifyAudit(db)).problems).toEqual([{ chain, seq: 2, problem: 'HASH_MISMATCH' }])
  })

  it('reports HASH_MISMATCH for a row whose actor or time was changed', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-h', 3)
    const { chain } = rows[0]!
    await db.query(`update audit_log set actor = 'user:someone-else' where chain = $1 and seq = 1`, [chain])
    await db.query(`update audit_log set at = at + interval '1 second' where chain = $1 and seq = 3`, [chain])
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
    const forged = auditHash(r.prev_hash, { chain: r.chain, seq: r.seq, at: new Date(r.at), actor: r.actor, action: r.action, entityType: r.entity_type, entityId: r.entity_id, data })
    await db.query('update audit_log set data = $3::jsonb, hash = $4 where chain = $1 and seq = $2', [r.chain, r.seq, JSON.stringify(data), forged])
    expect((await verifyAudit(db)).problems).toEqual([{ chain: r.chain, seq: 3, problem: 'PREV_HASH_MISMATCH' }])
  })

  it('reports MISSING_ROW and PREV_HASH_MISMATCH when a middle row is deleted', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-j', 3)
    const { chain } = rows[0]!
    await db.query('delete from audit_log where chain = $1 and seq = 2', [chain])
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
    await db.query('delete from audit_log where chain = $1 and seq = 3', [chain])
    expect((await verifyAudit(db)).problems).toEqual([{ chain, seq: 3, problem: 'HEAD_MISMATCH' }])
  })

  it('reports HEAD_MISMATCH when a whole chain is deleted', async () => {
    const db = await newDb()
    const rows = await appendMany(db, 'entity-l', 2)
    const { chain } = rows[0]!
    await db.query('delete from audit_log where chain = $1', [chain])
    expect(await verifyAudit(db)).toEqual({ rows: 0, problems: [{ chain, seq: 2, problem: 'HEAD_MISMATCH' }] })
  })

  it('keeps other chains clean when one is tampered with', async () => {
    const db = await newDb()
    // Append other entities until one lands on another chain (those on the same chain just extend it).
    const a = await appendMany(db, 'entity-m', 2)
    let b: LogRow[] = []
    for (let i = 0; !b[0] || b[0].chain === a[0]!.chain; i++) b = await appendMany(db, `other-${i}`, 1)
    await db.query(`update audit_log set action = 'FORGED' where chain = $1 and seq = 1`, [a[0]!.chain])
    const v = await verifyAudit(db)
    expect(v.problems).toEqual([{ chain: a[0]!.chain, seq: 1, problem: 'HASH_MISMATCH' }])
    expect(v.problems.some((p) => p.chain === b[0]!.chain)).toBe(false)
  })
})
