import type { Queryable, Tx } from '../../db/index.js'
import type { AeoPartner, CreditLevel, Enterprise } from './schema.js'

interface EnterpriseRow {
  id: string
  uscc: string
  customs_code: string
  name: string
  name_en: string | null
  credit_level: CreditLevel
  reachable: boolean
  registered_district: string
  created_at: Date
  updated_at: Date
}
const COLS =
  'id, uscc, customs_code, name, name_en, credit_level, reachable, registered_district, created_at, updated_at'

const toEnterprise = (r: EnterpriseRow): Enterprise => ({
  id: r.id,
  uscc: r.uscc,
  customsCode: r.customs_code,
  name: r.name,
  nameEn: r.name_en,
  creditLevel: r.credit_level,
  reachable: r.reachable,
  registeredDistrict: r.registered_district,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
})

export async function insertEnterprise(tx: Tx, e: Enterprise): Promise<Enterprise | undefined> {
  const rows = await tx.query<EnterpriseRow>(
    `insert into enterprises (${COLS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict do nothing returning ${COLS}`,
    [
      e.id,
      e.uscc,
      e.customsCode,
      e.name,
      e.nameEn,
      e.creditLevel,
      e.reachable,
      e.registeredDistrict,
      e.createdAt,
      e.updatedAt,
    ],
  )
  return rows[0] && toEnterprise(rows[0])
}

export async function findEnterprise(db: Queryable, id: string): Promise<Enterprise | undefined> {
  const [r] = await db.query<EnterpriseRow>(`select ${COLS} from enterprises where id = $1`, [id])
  return r && toEnterprise(r)
}

export async function findEnterpriseByCode(
  db: Queryable,
  code: { uscc?: string; customsCode?: string },
): Promise<Enterprise | undefined> {
  const [r] = await db.query<EnterpriseRow>(
    `select ${COLS} from enterprises where uscc = $1 or customs_code = $2 limit 1`,
    [code.uscc ?? null, code.customsCode ?? null],
  )
  return r && toEnterprise(r)
}

/** Enterprises by customs code, for the declaration pipeline (one query for a whole batch). */
export async function findEnterprisesByCustomsCodes(db: Queryable, codes: string[]): Promise<Map<string, Enterprise>> {
  const rows = await db.query<EnterpriseRow>(`select ${COLS} from enterprises where customs_code = any($1::text[])`, [
    codes,
  ])
  return new Map(rows.map((r) => [r.customs_code, toEnterprise(r)]))
}

export async function listEnterprises(
  db: Queryable,
  f: { q?: string | undefined; creditLevel?: string | undefined; id?: string; limit: number; offset: number },
) {
  const rows = await db.query<EnterpriseRow & { total: number }>(
    `select ${COLS}, count(*) over () as total from enterprises
     where ($1::text is null or name ilike '%' || $1 || '%' or customs_code = $1 or uscc = $1)
       and ($2::text is null or credit_level = $2) and ($3::uuid is null or id = $3)
     order by name, id limit $4 offset $5`,
    [f.q ?? null, f.creditLevel ?? null, f.id ?? null, f.limit, f.offset],
  )
  return { items: rows.map(toEnterprise), total: rows[0]?.total ?? 0 }
}

export async function updateEnterprise(
  tx: Tx,
  id: string,
  patch: { name?: string; nameEn?: string; reachable?: boolean; creditLevel?: CreditLevel },
  at: string,
) {
  const [r] = await tx.query<EnterpriseRow>(
    `update enterprises set name = coalesce($2, name), name_en = coalesce($3, name_en), reachable = coalesce($4, reachable),
       credit_level = coalesce($5, credit_level), updated_at = $6 where id = $1 returning ${COLS}`,
    [id, patch.name ?? null, patch.nameEn ?? null, patch.reachable ?? null, patch.creditLevel ?? null, at],
  )
  return r && toEnterprise(r)
}

export async function insertCreditHistory(
  tx: Tx,
  h: { enterpriseId: string; creditLevel: CreditLevel; effectiveFrom: string; reason: string; changedBy: string },
) {
  await tx.query(
    `insert into enterprise_credit_history (enterprise_id, credit_level, effective_from, reason, changed_by) values ($1, $2, $3, $4, $5)`,
    [h.enterpriseId, h.creditLevel, h.effectiveFrom, h.reason, h.changedBy],
  )
}

export async function creditHistory(db: Queryable, enterpriseId: string) {
  const rows = await db.query<{ credit_level: CreditLevel; effective_from: Date; reason: string; changed_by: string }>(
    `select credit_level, effective_from, reason, changed_by from enterprise_credit_history where enterprise_id = $1 order by effective_from, id`,
    [enterpriseId],
  )
  return rows.map((r) => ({
    creditLevel: r.credit_level,
    effectiveFrom: new Date(r.effective_from).toISOString(),
    reason: r.reason,
    changedBy: r.changed_by,
  }))
}

export async function listAeoPartners(db: Queryable): Promise<AeoPartner[]> {
  const rows = await db.query<{ country: string; from: string; to: string | null }>(
    `select country, recognised_from::text as from, recognised_to::text as to from aeo_partners order by country`,
  )
  return rows.map((r) => ({ country: r.country, recognisedFrom: r.from, recognisedTo: r.to }))
}

export async function replaceAeoPartners(tx: Tx, items: AeoPartner[]) {
  await tx.query('delete from aeo_partners')
  await tx.query(
    `insert into aeo_partners (country, recognised_from, recognised_to)
     select country, recognised_from, recognised_to from jsonb_to_recordset($1::jsonb) as x(country text, recognised_from date, recognised_to date)`,
    [
      JSON.stringify(
        items.map((i) => ({
          country: i.country,
          recognised_from: i.recognisedFrom,
          recognised_to: i.recognisedTo ?? null,
        })),
      ),
    ],
  )
}
