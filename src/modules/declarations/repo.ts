import type { Queryable, Tx } from '../../db/index.js'
import type { ErrorItem } from '../../errors.js'
import type { Decision } from '../selectivity/index.js'
import type { Declaration, DeclarationContent, Lane, State, SubmitDeclaration } from './schema.js'
import { STATE_TIME_COLUMN } from './lifecycle.js'

/** A declaration row ready to insert, built by the service. */
export interface NewDeclaration {
  id: string
  submittedAt: string
  entryId: string | null
  clientRef: string
  ieFlag: 'I' | 'E'
  state: State
  lane: Lane | null
  declarantId: string
  traderId: string
  cardId: string
  content: DeclarationContent
  signature: SubmitDeclaration['signature']
  payloadHash: string
  totalValueCny: string
  risk: Decision | null
  times: Partial<Record<'acceptedAt' | 'assessedAt' | 'inspectionOrderedAt' | 'releasedAt' | 'clearedAt', string>>
}

interface DeclarationRow {
  id: string
  entry_id: string | null
  client_ref: string
  ie_flag: string
  state: State
  lane: Lane | null
  trader_id: string
  declarant_id: string
  total_value_cny: string
  body: DeclarationContent & { signature: SubmitDeclaration['signature'] }
  signature: string
  risk: Decision | null
  errors: ErrorItem[] | null
  submitted_at: Date
  accepted_at: Date | null
  rejected_at: Date | null
  assessed_at: Date | null
  inspection_ordered_at: Date | null
  released_at: Date | null
  detained_at: Date | null
  returned_at: Date | null
  cleared_at: Date | null
  version: number
}
const COLS = `id, entry_id, client_ref, ie_flag, state, lane, trader_id, declarant_id, total_value_cny, body, signature, risk, errors,
  submitted_at, accepted_at, rejected_at, assessed_at, inspection_ordered_at, released_at, detained_at, returned_at, cleared_at, version`
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null)

export function toDeclaration(r: DeclarationRow): Declaration {
  const { signature, ...content } = r.body
  return {
    id: r.id,
    entryId: r.entry_id,
    clientRef: r.client_ref,
    ieFlag: r.ie_flag,
    state: r.state,
    lane: r.lane,
    traderId: r.trader_id,
    declarantId: r.declarant_id,
    cardNo: signature.cardNo,
    totalValueCny: r.total_value_cny,
    content,
    signature,
    risk: r.risk,
    errors: r.errors,
    submittedAt: iso(r.submitted_at)!,
    acceptedAt: iso(r.accepted_at),
    rejectedAt: iso(r.rejected_at),
    assessedAt: iso(r.assessed_at),
    inspectionOrderedAt: iso(r.inspection_ordered_at),
    releasedAt: iso(r.released_at),
    detainedAt: iso(r.detained_at),
    returnedAt: iso(r.returned_at),
    clearedAt: iso(r.cleared_at),
    version: r.version,
  }
}

export async function findByRefs(
  db: Queryable,
  refs: Array<{ enterpriseId: string; clientRef: string }>,
): Promise<Map<string, Declaration>> {
  const rows = await db.query<DeclarationRow & { ref_enterprise: string }>(
    `select r.enterprise_id as ref_enterprise, ${COLS.split(',')
      .map((c) => 'd.' + c.trim())
      .join(', ')}
     from jsonb_to_recordset($1::jsonb) as x(enterprise_id uuid, client_ref text)
     join declaration_refs r on r.enterprise_id = x.enterprise_id and r.client_ref = x.client_ref
     join declarations d on d.id = r.declaration_id and d.submitted_at = r.submitted_at`,
    [JSON.stringify(refs.map((r) => ({ enterprise_id: r.enterpriseId, client_ref: r.clientRef })))],
  )
  return new Map(rows.map((r) => [`${r.ref_enterprise}/${r.client_ref}`, toDeclaration(r)]))
}

/**
 * Writes a batch of new declarations in one statement, whatever its size: claims their client references
 * (`declaration_refs`, on conflict do nothing) and inserts only the declarations whose reference it claimed, with
 * their items (references are per declarant enterprise). A reference already claimed, by an earlier request or by another process at the same moment, writes nothing
 * and its original is served instead. Returns the ids written.
 */
export async function insertDeclarations(tx: Tx, ds: NewDeclaration[]): Promise<Set<string>> {
  if (ds.length === 0) return new Set()
  const rows = await tx.query<{ declaration_id: string }>(
    `with x as (
       select * from jsonb_to_recordset($1::jsonb) as x(id uuid, submitted_at timestamptz, entry_id text, client_ref text, ie_flag char(1), state text,
         lane text, declarant_id uuid, trader_id uuid, card_id uuid, total_value_cny numeric, body jsonb, signature text,
         payload_hash text, risk jsonb, accepted_at timestamptz, assessed_at timestamptz, inspection_ordered_at timestamptz, released_at timestamptz,
         cleared_at timestamptz)),
     refs as (
       insert into declaration_refs (enterprise_id, client_ref, declaration_id, submitted_at)
       select declarant_id, client_ref, id, submitted_at from x
       on conflict do nothing returning declaration_id),
     d as (
       insert into declarations (id, submitted_at, entry_id, client_ref, ie_flag, state, lane, declarant_id, trader_id, card_id,
         customs_district, ie_port, trade_mode, transport_mode, trade_country, bill_no, total_value_cny, body, signature, payload_hash,
         risk, accepted_at, assessed_at, inspection_ordered_at, released_at, cleared_at, updated_at)
       select id, submitted_at, entry_id, client_ref, ie_flag, state, lane, declarant_id, trader_id, card_id,
         body ->> 'customsDistrict', body ->> 'iePort', body ->> 'tradeMode', body ->> 'transportMode', body ->> 'tradeCountry', body ->> 'billNo',
         total_value_cny, body, signature, payload_hash, risk, accepted_at, assessed_at, inspection_ordered_at, released_at, cleared_at, submitted_at
       from x join refs on refs.declaration_id = x.id
       returning id),
     items as (
       insert into declaration_items (declaration_id, submitted_at, g_no, hs_code, description, quantity, unit, unit_price, total_value, currency, origin_country)
       select i.declaration_id, i.submitted_at, g_no, hs_code, description, quantity, unit, unit_price, total_value, currency, origin_country
       from jsonb_to_recordset($2::jsonb) as i(declaration_id uuid, submitted_at timestamptz, g_no int, hs_code text, description text,
         quantity numeric, unit text, unit_price numeric, total_value numeric, currency text, origin_country text)
       join refs on refs.declaration_id = i.declaration_id)
     select declaration_id from refs`,
    [
      JSON.stringify(
        ds.map((d) => ({
          id: d.id,
          submitted_at: d.submittedAt,
          entry_id: d.entryId,
          client_ref: d.clientRef,
          ie_flag: d.ieFlag,
          state: d.state,
          lane: d.lane,
          declarant_id: d.declarantId,
          trader_id: d.traderId,
          card_id: d.cardId,
          total_value_cny: d.totalValueCny,
          body: { ...d.content, signature: d.signature },
          signature: d.signature.value,
          payload_hash: d.payloadHash,
          risk: d.risk,
          accepted_at: d.times.acceptedAt ?? null,
          assessed_at: d.times.assessedAt ?? null,
          inspection_ordered_at: d.times.inspectionOrderedAt ?? null,
          released_at: d.times.releasedAt ?? null,
          cleared_at: d.times.clearedAt ?? null,
        })),
      ),
      JSON.stringify(
        ds.flatMap((d) =>
          d.content.items.map((it, i) => ({
            declaration_id: d.id,
            submitted_at: d.submittedAt,
            g_no: i + 1,
            hs_code: it.hsCode,
            description: it.description,
            quantity: it.quantity,
            unit: it.unit,
            unit_price: it.unitPrice,
            total_value: it.totalValue,
            currency: d.content.currency,
            origin_country: it.originCountry,
          })),
        ),
      ),
    ],
  )
  return new Set(rows.map((r) => r.declaration_id))
}

export async function findDeclaration(
  db: Queryable,
  idOrEntry: string,
): Promise<(Declaration & { submittedAtRaw: string; cardId: string }) | undefined> {
  const isUuid = /^[0-9a-f]{8}-/i.test(idOrEntry)
  const [r] = await db.query<DeclarationRow & { card_id: string }>(
    `select ${COLS}, card_id from declarations where ${isUuid ? 'id = $1::uuid' : 'entry_id = $1'} limit 1`,
    [idOrEntry],
  )
  return r && { ...toDeclaration(r), submittedAtRaw: new Date(r.submitted_at).toISOString(), cardId: r.card_id }
}

/** Locks the declaration row for a state change (inside the transaction). */
export async function lockDeclaration(tx: Tx, id: string): Promise<Declaration | undefined> {
  const [r] = await tx.query<DeclarationRow>(`select ${COLS} from declarations where id = $1 for update`, [id])
  return r && toDeclaration(r)
}

/** Moves a declaration to `to`, stamping the state's time column, only if it is still in `from`. */
export async function updateState(
  tx: Tx,
  d: Pick<Declaration, 'id' | 'submittedAt'>,
  from: State,
  to: State,
  at: string,
  extra: { lane?: Lane; risk?: Decision; errors?: ErrorItem[]; entryId?: string } = {},
) {
  const col = STATE_TIME_COLUMN[to]
  const rows = await tx.query<DeclarationRow>(
    `update declarations set state = $3, updated_at = $4, version = version + 1
       ${col ? `, ${col} = $4` : ''}
       , lane = coalesce($5, lane), risk = coalesce($6::jsonb, risk), errors = coalesce($7::jsonb, errors), entry_id = coalesce($8, entry_id)
     where id = $1 and submitted_at = $2 and state = $9 returning ${COLS}`,
    [
      d.id,
      d.submittedAt,
      to,
      at,
      extra.lane ?? null,
      extra.risk ? JSON.stringify(extra.risk) : null,
      extra.errors ? JSON.stringify(extra.errors) : null,
      extra.entryId ?? null,
      from,
    ],
  )
  return rows[0] && toDeclaration(rows[0])
}

export async function listDeclarations(
  db: Queryable,
  f: {
    enterpriseId?: string | undefined
    state?: State | undefined
    lane?: Lane | undefined
    from?: string | undefined
    to?: string | undefined
    limit: number
    offset: number
  },
) {
  const rows = await db.query<DeclarationRow & { total: number }>(
    `select ${COLS}, count(*) over () as total from declarations
     where ($1::uuid is null or trader_id = $1 or declarant_id = $1) and ($2::text is null or state = $2) and ($3::text is null or lane = $3)
       and ($4::timestamptz is null or submitted_at >= $4) and ($5::timestamptz is null or submitted_at < $5)
     order by submitted_at desc, id limit $6 offset $7`,
    [f.enterpriseId ?? null, f.state ?? null, f.lane ?? null, f.from ?? null, f.to ?? null, f.limit, f.offset],
  )
  return { items: rows.map(toDeclaration), total: rows[0]?.total ?? 0 }
}

/** Reserves `n` sequence values for (district, year, flag) in its own statement; returns the first. */
export async function reserveSequence(
  db: Queryable,
  district: string,
  year: number,
  ieFlag: string,
  n: number,
): Promise<number> {
  const [r] = await db.query<{ first: number }>(
    `insert into entry_sequences (district, year, ie_flag, next_value) values ($1, $2, $3, $4 + 1)
     on conflict (district, year, ie_flag) do update set next_value = entry_sequences.next_value + $4
     returning next_value - $4 as first`,
    [district, year, ieFlag, n],
  )
  return r!.first
}

/** Clearance time (submission → release) per port and lane: median and p90 in seconds, China dates. */
export async function clearanceStats(db: Queryable, from: string | null, to: string | null) {
  return db.query<{ port: string; lane: string; released: number; median_s: number; p90_s: number }>(
    `select ie_port as port, lane, count(*)::int as released,
       percentile_cont(0.5) within group (order by extract(epoch from released_at - submitted_at))::float8 as median_s,
       percentile_cont(0.9) within group (order by extract(epoch from released_at - submitted_at))::float8 as p90_s
     from declarations where released_at is not null
       and ($1::timestamptz is null or released_at >= $1) and ($2::timestamptz is null or released_at < $2)
     group by 1, 2 order by 1, 2`,
    [from, to],
  )
}

/**
 * Releases in [from, to) (by release time) for the appointments figures: counts per (lodging office, China date,
 * China hour of release), and the mean minutes from lodging (the goods' arrival at customs) to release for the
 * declarations `booked` names versus all others.
 */
export async function releaseFigures(
  db: Queryable,
  q: { from: string; to: string; district: string | null; booked: string[] },
): Promise<{
  byHour: Array<{ district: string; date: string; hour: number; n: number }>
  booked: { count: number; meanMinutes: number | null }
  unbooked: { count: number; meanMinutes: number | null }
}> {
  const params: Array<string | string[]> = [q.from, q.to]
  let cond = 'released_at >= $1 and released_at < $2'
  if (q.district) {
    params.push(q.district)
    cond += ` and customs_district = $${params.length}`
  }
  const local = `(released_at at time zone 'UTC') + interval '8 hours'`
  const byHour = await db.query<{ district: string; date: string; hour: number; n: number }>(
    `select customs_district as district, to_char(${local}, 'YYYY-MM-DD') as date,
       extract(hour from ${local})::int as hour, count(*)::int as n
     from declarations where ${cond} group by 1, 2, 3`,
    params,
  )
  params.push(q.booked)
  const means = await db.query<{ booked: boolean; n: number; mean: string | number | null }>(
    `select coalesce(entry_id = any($${params.length}::text[]), false) as booked, count(*)::int as n,
       avg(extract(epoch from released_at - submitted_at)) / 60 as mean
     from declarations where ${cond} group by 1`,
    params,
  )
  const pick = (b: boolean) => {
    const r = means.find((m) => m.booked === b)
    return { count: r?.n ?? 0, meanMinutes: r?.mean == null ? null : Math.round(Number(r.mean) * 10) / 10 }
  }
  return { byHour, booked: pick(true), unbooked: pick(false) }
}
