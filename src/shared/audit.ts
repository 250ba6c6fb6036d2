import { canonicalJson, sha256Hex } from './signing.js'
import type { AuditEvent, Queryable, Tx } from '../db/types.js'

export type { AuditEvent } from '../db/types.js'

/** Number of independent hash chains (rows of `audit_heads`, created by migration 0001). */
export const AUDIT_CHAINS = 16
export const GENESIS_HASH = '0'.repeat(64)

/** One state change, as recorded. `at` is taken from the injected clock by the caller. */

export interface AuditRow extends AuditEvent {
  chain: number
  seq: number
  prevHash: string
  hash: string
}

/**
 * Records an audit event in the transaction `tx`; it is written to the hash chain just before the
 * transaction commits, or not at all if it rolls back. Requires a transaction by type and at run time.
 */
export function appendAudit(tx: Tx, event: AuditEvent): void {
  if (!tx || tx.inTransaction !== true) throw new Error('appendAudit needs a transaction')
  tx.pendingAudit.push(event)
}

/** The hash of one row: SHA-256 over the previous hash and the canonical JSON of the row's content. */
export function auditHash(prevHash: string, row: Omit<AuditRow, 'hash' | 'prevHash'>): string {
  return sha256Hex(
    prevHash +
      canonicalJson({
        chain: row.chain,
        seq: row.seq,
        at: row.at.toISOString(),
        actor: row.actor,
        action: row.action,
        entityType: row.entityType,
        entityId: row.entityId,
        data: row.data,
      }),
  )
}

function chainFor(entityId: string): number {
  let h = 0
  for (let i = 0; i < entityId.length; i++) h = (Math.imul(h, 31) + entityId.charCodeAt(i)) >>> 0
  return h % AUDIT_CHAINS
}

/** Writes the transaction's pending events to one chain (picked from the first event's entity). */
export async function flushAudit(tx: Tx): Promise<void> {
  const events = tx.pendingAudit.splice(0)
  if (events.length === 0) return
  const chain = chainFor(events[0]!.entityId)
  const [head] = await tx.query<{ seq: number; hash: string }>(
    'select seq, hash from audit_heads where chain = $1 for update',
    [chain],
  )
  if (!head) throw new Error(`audit chain ${chain} missing`)
  let { seq, hash } = head
  const rows = events.map((e) => {
    seq += 1
    const base = { ...e, chain, seq }
    const prevHash = hash
    hash = auditHash(prevHash, base)
    return {
      chain,
      seq,
      at: e.at.toISOString(),
      actor: e.actor,
      action: e.action,
      entity_type: e.entityType,
      entity_id: e.entityId,
      data: e.data,
      prev_hash: prevHash,
      hash,
    }
  })
  await tx.query(
    `insert into audit_log (chain, seq, at, actor, action, entity_type, entity_id, data, prev_hash, hash)
     select chain, seq, at, actor, action, entity_type, entity_id, data, prev_hash, hash
     from jsonb_to_recordset($1::jsonb) as x(chain smallint, seq bigint, at timestamptz, actor text, action text,
       entity_type text, entity_id text, data jsonb, prev_hash text, hash text)`,
    [JSON.stringify(rows)],
  )
  await tx.query('update audit_heads set seq = $2, hash = $3 where chain = $1', [chain, seq, hash])
}

export interface AuditProblem {
  chain: number
  seq: number
  problem:
    | 'HASH_MISMATCH'
    | 'PREV_HASH_MISMATCH'
    | 'MISSING_ROW'
    | 'HEAD_MISMATCH'
    | 'CHECKPOINT_MISMATCH'
    | 'CHECKPOINT_ROW_MISSING'
  /**
   * CHECKPOINT_MISMATCH and CHECKPOINT_ROW_MISSING: the chain differs from what was checkpointed, and its first rewritten
   * (or removed) row lies in this range: after the last checkpoint that still matches, up to this one.
   */
  firstDifferenceBetween?: [number, number]
}

/** A checkpoint the caller has already authenticated (signature, pinned key): chain `chain` had head `hash` at `seq`. */
export interface TrustedCheckpoint {
  chain: number
  seq: number
  hash: string
}

/**
 * Re-walks every chain from genesis and reports rows whose content no longer matches their hash, gaps
 * (deleted rows) and heads that disagree with the last row (deleted tail). Reads in pages to bound memory.
 *
 * These checks use only what the database holds, so a chain rebuilt with recomputed hashes and head passes them.
 * `checkpoints` (kept outside the database, see `modules/audit`) close that gap: the hash of each chain is recomputed
 * from genesis, from the rows' content alone, and must equal the checkpointed hash at every checkpointed seq; the
 * first checkpoint per chain that does not is reported (CHECKPOINT_MISMATCH, or CHECKPOINT_ROW_MISSING when the chain
 * no longer has that row), with the range its first rewritten row lies in.
 */
export async function verifyAudit(
  db: Queryable,
  pageSize = 5000,
  checkpoints: readonly TrustedCheckpoint[] = [],
): Promise<{ rows: number; problems: AuditProblem[] }> {
  const problems: AuditProblem[] = []
  const byChain = new Map<number, TrustedCheckpoint[]>()
  for (const c of checkpoints) byChain.set(c.chain, [...(byChain.get(c.chain) ?? []), c])
  let total = 0
  const heads = await db.query<{ chain: number; seq: number; hash: string }>(
    'select chain, seq, hash from audit_heads order by chain',
  )
  for (const head of heads) {
    let expectSeq = 1
    let prev = GENESIS_HASH
    // The chain recomputed from the rows' content alone (stored hashes ignored), compared with the checkpoints.
    let walked = GENESIS_HASH
    const cps = (byChain.get(head.chain) ?? []).sort((a, b) => a.seq - b.seq)
    let next = 0
    let lastMatch = 0
    let differs = false
    const checkpointProblem = (seq: number, problem: 'CHECKPOINT_MISMATCH' | 'CHECKPOINT_ROW_MISSING') => {
      if (!differs) problems.push({ chain: head.chain, seq, problem, firstDifferenceBetween: [lastMatch + 1, seq] })
      differs = true
    }
    for (;;) {
      const page = await db.query<{
        seq: number
        at: Date
        actor: string
        action: string
        entity_type: string
        entity_id: string
        data: Record<string, unknown>
        prev_hash: string
        hash: string
      }>(
        `select seq, at, actor, action, entity_type, entity_id, data, prev_hash, hash from audit_log
         where chain = $1 and seq >= $2 order by seq limit $3`,
        [head.chain, expectSeq, pageSize],
      )
      for (const r of page) {
        total++
        if (r.seq !== expectSeq) problems.push({ chain: head.chain, seq: expectSeq, problem: 'MISSING_ROW' })
        if (r.prev_hash !== prev) problems.push({ chain: head.chain, seq: r.seq, problem: 'PREV_HASH_MISMATCH' })
        const content = {
          chain: head.chain,
          seq: r.seq,
          at: new Date(r.at),
          actor: r.actor,
          action: r.action,
          entityType: r.entity_type,
          entityId: r.entity_id,
          data: r.data,
        }
        const h = auditHash(r.prev_hash, content)
        if (h !== r.hash) problems.push({ chain: head.chain, seq: r.seq, problem: 'HASH_MISMATCH' })
        prev = r.hash
        expectSeq = r.seq + 1
        if (cps.length > 0) {
          walked = auditHash(walked, content)
          for (; next < cps.length && cps[next]!.seq < r.seq; next++)
            checkpointProblem(cps[next]!.seq, 'CHECKPOINT_ROW_MISSING')
          for (; next < cps.length && cps[next]!.seq === r.seq; next++) {
            if (cps[next]!.hash !== walked) checkpointProblem(r.seq, 'CHECKPOINT_MISMATCH')
            else if (!differs) lastMatch = r.seq
          }
        }
      }
      if (page.length < pageSize) break
    }
    if (expectSeq - 1 !== head.seq || prev !== head.hash)
      problems.push({ chain: head.chain, seq: head.seq, problem: 'HEAD_MISMATCH' })
    for (; next < cps.length; next++) checkpointProblem(cps[next]!.seq, 'CHECKPOINT_ROW_MISSING')
    byChain.delete(head.chain)
  }
  // Checkpointed chains the database no longer has a head for.
  for (const [chain, cps] of byChain) {
    const first = Math.min(...cps.map((c) => c.seq))
    problems.push({ chain, seq: first, problem: 'CHECKPOINT_ROW_MISSING', firstDifferenceBetween: [1, first] })
  }
  return { rows: total, problems }
}

/** Audit rows of one entity, oldest first (for the entity's history view). */
export async function auditTrail(db: Queryable, entityType: string, entityId: string): Promise<AuditRow[]> {
  const rows = await db.query<{
    chain: number
    seq: number
    at: Date
    actor: string
    action: string
    data: Record<string, unknown>
    prev_hash: string
    hash: string
  }>(
    `select chain, seq, at, actor, action, data, prev_hash, hash from audit_log
     where entity_type = $1 and entity_id = $2 order by at, recorded_at, chain, seq`,
    [entityType, entityId],
  )
  return rows.map((r) => ({
    chain: r.chain,
    seq: r.seq,
    at: new Date(r.at),
    actor: r.actor,
    action: r.action,
    entityType,
    entityId,
    data: r.data,
    prevHash: r.prev_hash,
    hash: r.hash,
  }))
}
