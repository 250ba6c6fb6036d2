import type { Db, Param, Queryable } from '../src/db/index.js'
import { GENESIS_HASH, auditHash } from '../src/shared/audit.js'

/**
 * Runs SQL as an attacker holding superuser rights would: with triggers off for the transaction
 * (session_replication_role = replica), since the database refuses UPDATE and DELETE of audit rows otherwise.
 */
export async function tamper(db: Db, sql: string, params: Param[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('set local session_replication_role = replica')
    await tx.query(sql, params)
  })
}

interface ChainRow {
  seq: number
  at: Date
  actor: string
  action: string
  entity_type: string
  entity_id: string
  data: Record<string, unknown>
  hash: string
}

/**
 * What an attacker with superuser rights does to hide an edit: rewrites row `seq` of `chain` with `change`, recomputes
 * the hash of it and of every later row, and moves the head onto the new last hash. `verifyAudit` without checkpoints
 * cannot tell. Returns the chain's rows as they were.
 */
export async function rebuildChain(
  db: Db,
  chain: number,
  seq: number,
  change: Partial<Pick<ChainRow, 'actor' | 'action' | 'data'>>,
): Promise<ChainRow[]> {
  const rows = await chainRows(db, chain)
  await db.transaction(async (tx) => {
    await tx.query('set local session_replication_role = replica')
    let prev = seq > 1 ? rows[seq - 2]!.hash : GENESIS_HASH
    for (const r of rows.filter((x) => x.seq >= seq)) {
      const c = r.seq === seq ? { ...r, ...change } : r
      const hash = auditHash(prev, {
        chain,
        seq: r.seq,
        at: new Date(r.at),
        actor: c.actor,
        action: c.action,
        entityType: r.entity_type,
        entityId: r.entity_id,
        data: c.data,
      })
      await tx.query(
        'update audit_log set actor = $3, action = $4, data = $5::jsonb, prev_hash = $6, hash = $7 where chain = $1 and seq = $2',
        [chain, r.seq, c.actor, c.action, JSON.stringify(c.data), prev, hash],
      )
      prev = hash
    }
    await tx.query('update audit_heads set hash = $2 where chain = $1', [chain, prev])
  })
  return rows
}

export const chainRows = (db: Queryable, chain: number) =>
  db.query<ChainRow>(
    'select seq, at, actor, action, entity_type, entity_id, data, hash from audit_log where chain = $1 order by seq',
    [chain],
  )
