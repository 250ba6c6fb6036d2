import type { Queryable, Tx } from '../../db/index.js'
import type { Card } from './schema.js'

interface CardRow {
  id: string
  card_no: string
  enterprise_id: string
  kind: string
  operator_name: string
  alg: string
  public_key: string
  key_id: string
  status: 'ACTIVE' | 'REVOKED'
  issue_type: 'NEW' | 'REPLACEMENT'
  replaces: string | null
  issued_at: Date
  revoked_at: Date | null
  revoke_reason: string | null
}
const COLS =
  'id, card_no, enterprise_id, kind, operator_name, alg, public_key, key_id, status, issue_type, replaces, issued_at, revoked_at, revoke_reason'
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null)

const toCard = (r: CardRow): Card => ({
  id: r.id,
  cardNo: r.card_no,
  enterpriseId: r.enterprise_id,
  kind: r.kind,
  operatorName: r.operator_name,
  alg: r.alg,
  publicKey: r.public_key,
  keyId: r.key_id,
  status: r.status,
  issueType: r.issue_type,
  replaces: r.replaces,
  issuedAt: iso(r.issued_at)!,
  revokedAt: iso(r.revoked_at),
  revokeReason: r.revoke_reason,
})

export async function insertCard(tx: Tx, c: Card): Promise<Card> {
  const [r] = await tx.query<CardRow>(
    `insert into port_cards (${COLS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) returning ${COLS}`,
    [
      c.id,
      c.cardNo,
      c.enterpriseId,
      c.kind,
      c.operatorName,
      c.alg,
      c.publicKey,
      c.keyId,
      c.status,
      c.issueType,
      c.replaces,
      c.issuedAt,
      c.revokedAt,
      c.revokeReason,
    ],
  )
  return toCard(r!)
}

export async function findCard(db: Queryable, id: string): Promise<Card | undefined> {
  const [r] = await db.query<CardRow>(`select ${COLS} from port_cards where id = $1`, [id])
  return r && toCard(r)
}

/** Cards by number (signing cards) and by id (session cards) for a batch of declarations, in one query. */
export async function findCards(
  db: Queryable,
  cardNos: string[],
  ids: string[],
): Promise<{ byNo: Map<string, Card>; byId: Map<string, Card> }> {
  const rows = await db.query<CardRow>(
    `select ${COLS} from port_cards where card_no = any($1::text[]) or id = any($2::uuid[])`,
    [cardNos, ids],
  )
  const cards = rows.map(toCard)
  return { byNo: new Map(cards.map((c) => [c.cardNo, c])), byId: new Map(cards.map((c) => [c.id, c])) }
}

/** Revokes an active card; returns undefined if it was not active (so a concurrent revoke cannot double-audit). */
export async function revokeCard(tx: Tx, id: string, at: string, reason: string): Promise<Card | undefined> {
  const [r] = await tx.query<CardRow>(
    `update port_cards set status = 'REVOKED', revoked_at = $2, revoke_reason = $3 where id = $1 and status = 'ACTIVE' returning ${COLS}`,
    [id, at, reason],
  )
  return r && toCard(r)
}

export async function listCards(
  db: Queryable,
  f: { enterpriseId?: string | undefined; status?: string | undefined; limit: number; offset: number },
) {
  const rows = await db.query<CardRow & { total: number }>(
    `select ${COLS}, count(*) over () as total from port_cards
     where ($1::uuid is null or enterprise_id = $1) and ($2::text is null or status = $2)
     order by issued_at desc, id limit $3 offset $4`,
    [f.enterpriseId ?? null, f.status ?? null, f.limit, f.offset],
  )
  return { items: rows.map(toCard), total: rows[0]?.total ?? 0 }
}

/** New vs replacement issuance and revocations per period (China time), for the card office's reports. */
export async function cardStats(db: Queryable, from: string, to: string, period: string) {
  const rows = await db.query<{ period: string; new_cards: number; replacements: number; revocations: number }>(
    `with ev as (
       select issued_at at time zone 'Asia/Shanghai' as t, issue_type as what from port_cards
       union all
       select revoked_at at time zone 'Asia/Shanghai', 'REVOKED' from port_cards where revoked_at is not null
     )
     select to_char(date_trunc($3, t), case $3 when 'day' then 'YYYY-MM-DD' when 'month' then 'YYYY-MM' when 'quarter' then 'YYYY-"Q"Q' else 'YYYY' end) as period,
       count(*) filter (where what = 'NEW')::int as new_cards,
       count(*) filter (where what = 'REPLACEMENT')::int as replacements,
       count(*) filter (where what = 'REVOKED')::int as revocations
     from ev where t >= $1::date and t < $2::date + 1
     group by 1 order by 1`,
    [from, to, period],
  )
  const items = rows.map((r) => ({
    period: r.period,
    newCards: r.new_cards,
    replacements: r.replacements,
    revocations: r.revocations,
  }))
  const total = items.reduce(
    (a, r) => ({
      newCards: a.newCards + r.newCards,
      replacements: a.replacements + r.replacements,
      revocations: a.revocations + r.revocations,
    }),
    { newCards: 0, replacements: 0, revocations: 0 },
  )
  return { items, total }
}
