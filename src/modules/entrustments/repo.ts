import type { Queryable, Tx } from '../../db/index.js'
import type { EntrustmentState, EntrustmentTerms, Signature as Sig, StoredState } from './schema.js'

/** An entrustment as stored: `state` is the stored one (the service computes EXPIRED from the dates). */
export interface StoredEntrustment {
  id: string
  clientRef: string
  state: StoredState
  traderId: string
  traderCode: string
  traderName: string
  declarantId: string
  declarantCode: string
  declarantName: string
  validFrom: string
  validTo: string
  tradeModes: string[] | null
  customsDistricts: string[] | null
  ieFlag: 'I' | 'E' | null
  terms: EntrustmentTerms
  termsHash: string
  traderSignature: Sig
  declarantSignature: Sig | null
  createdAt: string
  acceptedAt: string | null
  declinedAt: string | null
  revokedAt: string | null
  reason: string | null
  version: number
}

/** A new entrustment, as the service builds it (always PROPOSED). */
export interface NewEntrustment {
  id: string
  traderId: string
  declarantId: string
  clientRef: string
  validFrom: string
  validTo: string
  tradeModes: string[] | null
  customsDistricts: string[] | null
  ieFlag: 'I' | 'E' | null
  terms: EntrustmentTerms
  termsHash: string
  traderCardId: string
  traderSignature: Sig
  createdAt: string
}

interface Row {
  id: string
  client_ref: string
  state: StoredState
  trader_id: string
  trader_code: string
  trader_name: string
  declarant_id: string
  declarant_code: string
  declarant_name: string
  valid_from: string
  valid_to: string
  trade_modes: string[] | null
  customs_districts: string[] | null
  ie_flag: 'I' | 'E' | null
  terms: EntrustmentTerms
  terms_hash: string
  trader_signature: Sig
  declarant_signature: Sig | null
  created_at: Date
  accepted_at: Date | null
  declined_at: Date | null
  revoked_at: Date | null
  reason: string | null
  version: number
}

const SELECT = `select e.id, e.client_ref, e.state, e.trader_id, t.customs_code as trader_code, t.name as trader_name,
    e.declarant_id, d.customs_code as declarant_code, d.name as declarant_name, e.valid_from::text as valid_from, e.valid_to::text as valid_to,
    e.trade_modes, e.customs_districts, e.ie_flag, e.terms, e.terms_hash, e.trader_signature, e.declarant_signature,
    e.created_at, e.accepted_at, e.declined_at, e.revoked_at, e.reason, e.version
  from entrustments e join enterprises t on t.id = e.trader_id join enterprises d on d.id = e.declarant_id`
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null)

const toStored = (r: Row): StoredEntrustment => ({
  id: r.id,
  clientRef: r.client_ref,
  state: r.state,
  traderId: r.trader_id,
  traderCode: r.trader_code,
  traderName: r.trader_name,
  declarantId: r.declarant_id,
  declarantCode: r.declarant_code,
  declarantName: r.declarant_name,
  validFrom: r.valid_from,
  validTo: r.valid_to,
  tradeModes: r.trade_modes,
  customsDistricts: r.customs_districts,
  ieFlag: r.ie_flag,
  terms: r.terms,
  termsHash: r.terms_hash,
  traderSignature: r.trader_signature,
  declarantSignature: r.declarant_signature,
  createdAt: iso(r.created_at)!,
  acceptedAt: iso(r.accepted_at),
  declinedAt: iso(r.declined_at),
  revokedAt: iso(r.revoked_at),
  reason: r.reason,
  version: r.version,
})

/** Inserts a PROPOSED entrustment unless the trader already used the client reference; returns whether it was new. */
export async function insertEntrustment(tx: Tx, e: NewEntrustment): Promise<boolean> {
  const rows = await tx.query<{ id: string }>(
    `insert into entrustments (id, trader_id, declarant_id, client_ref, state, valid_from, valid_to, trade_modes, customs_districts, ie_flag,
       terms, terms_hash, trader_card_id, trader_signature, created_at, updated_at)
     values ($1, $2, $3, $4, 'PROPOSED', $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13::jsonb, $14, $14)
     on conflict (trader_id, client_ref) do nothing returning id`,
    [
      e.id,
      e.traderId,
      e.declarantId,
      e.clientRef,
      e.validFrom,
      e.validTo,
      e.tradeModes,
      e.customsDistricts,
      e.ieFlag,
      JSON.stringify(e.terms),
      e.termsHash,
      e.traderCardId,
      JSON.stringify(e.traderSignature),
      e.createdAt,
    ],
  )
  return rows.length === 1
}

export async function findEntrustment(db: Queryable, id: string): Promise<StoredEntrustment | undefined> {
  const [r] = await db.query<Row>(`${SELECT} where e.id = $1`, [id])
  return r && toStored(r)
}

export async function findByClientRef(
  db: Queryable,
  traderId: string,
  clientRef: string,
): Promise<StoredEntrustment | undefined> {
  const [r] = await db.query<Row>(`${SELECT} where e.trader_id = $1 and e.client_ref = $2`, [traderId, clientRef])
  return r && toStored(r)
}

/** Locks the entrustment row for a state change (inside the transaction). */
export async function lockEntrustment(tx: Tx, id: string): Promise<StoredEntrustment | undefined> {
  const [r] = await tx.query<Row>(`${SELECT} where e.id = $1 for update of e`, [id])
  return r && toStored(r)
}

/** Moves a locked entrustment from `from` to `to`, stamping the state's time column; undefined if it was no longer in `from`. */
export async function updateState(
  tx: Tx,
  id: string,
  from: StoredState,
  to: Exclude<StoredState, 'PROPOSED'>,
  at: string,
  extra: {
    reason?: string | null
    declarantCardId?: string
    declarantSignature?: Sig
  },
): Promise<boolean> {
  const col = { ACTIVE: 'accepted_at', DECLINED: 'declined_at', REVOKED: 'revoked_at' }[to]
  const rows = await tx.query<{ id: string }>(
    `update entrustments set state = $3, ${col} = $4, updated_at = $4, version = version + 1, reason = coalesce($5, reason),
       declarant_card_id = coalesce($6, declarant_card_id), declarant_signature = coalesce($7::jsonb, declarant_signature)
     where id = $1 and state = $2 returning id`,
    [
      id,
      from,
      to,
      at,
      extra.reason ?? null,
      extra.declarantCardId ?? null,
      extra.declarantSignature ? JSON.stringify(extra.declarantSignature) : null,
    ],
  )
  return rows.length === 1
}

/**
 * Lists entrustments, newest first. `enterpriseId` limits to those naming the enterprise (as `role`, or as
 * either party); `state` is the served state, EXPIRED computed against `today` (China date).
 */
export async function listEntrustments(
  db: Queryable,
  f: {
    enterpriseId?: string | undefined
    role?: 'TRADER' | 'DECLARANT' | undefined
    state?: EntrustmentState | undefined
    today: string
    limit: number
    offset: number
  },
): Promise<{ items: StoredEntrustment[]; total: number }> {
  const rows = await db.query<Row & { total: number }>(
    `${SELECT.replace('select ', 'select count(*) over () as total, ')}
     where ($1::uuid is null or ($2::text is distinct from 'DECLARANT' and e.trader_id = $1) or ($2::text is distinct from 'TRADER' and e.declarant_id = $1))
       and (case $3::text
         when 'EXPIRED' then e.state in ('PROPOSED', 'ACTIVE') and e.valid_to < $4::date
         when 'PROPOSED' then e.state = 'PROPOSED' and e.valid_to >= $4::date
         when 'ACTIVE' then e.state = 'ACTIVE' and e.valid_to >= $4::date
         else $3::text is null or e.state = $3 end)
     order by e.created_at desc, e.id limit $5 offset $6`,
    [f.enterpriseId ?? null, f.role ?? null, f.state ?? null, f.today, f.limit, f.offset],
  )
  return { items: rows.map(toStored), total: rows[0]?.total ?? 0 }
}

/** An ACTIVE entrustment in force on or after `today`, as intake needs it. */
export interface ActiveEntrustment {
  id: string
  traderCode: string
  declarantCode: string
  validFrom: string
  validTo: string
  tradeModes: string[] | null
  customsDistricts: string[] | null
  ieFlag: 'I' | 'E' | null
}

/**
 * The ACTIVE entrustments not ended before `today` of the given (trader, declarant) customs-code pairs: one
 * statement for a whole intake batch, whatever its size.
 */
export async function activeEntrustments(
  db: Queryable,
  pairs: Array<{ traderCode: string; declarantCode: string }>,
  today: string,
): Promise<ActiveEntrustment[]> {
  if (pairs.length === 0) return []
  const rows = await db.query<{
    id: string
    trader_code: string
    declarant_code: string
    valid_from: string
    valid_to: string
    trade_modes: string[] | null
    customs_districts: string[] | null
    ie_flag: 'I' | 'E' | null
  }>(
    `select e.id, t.customs_code as trader_code, d.customs_code as declarant_code, e.valid_from::text as valid_from, e.valid_to::text as valid_to,
       e.trade_modes, e.customs_districts, e.ie_flag
     from (select distinct trader_code, declarant_code from jsonb_to_recordset($1::jsonb) as x(trader_code text, declarant_code text)) p
     join enterprises t on t.customs_code = p.trader_code
     join enterprises d on d.customs_code = p.declarant_code
     join entrustments e on e.declarant_id = d.id and e.trader_id = t.id and e.state = 'ACTIVE' and e.valid_to >= $2::date`,
    [JSON.stringify(pairs.map((p) => ({ trader_code: p.traderCode, declarant_code: p.declarantCode }))), today],
  )
  return rows.map((r) => ({
    id: r.id,
    traderCode: r.trader_code,
    declarantCode: r.declarant_code,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    tradeModes: r.trade_modes,
    customsDistricts: r.customs_districts,
    ieFlag: r.ie_flag,
  }))
}
