import type { Queryable, Tx } from '../../db/index.js'
import type { Params, Rule } from './schema.js'

interface RuleRow {
  id: string
  name: string
  description: string
  conditions: Rule['conditions']
  action: Rule['action']
  active: boolean
  created_by: string
  created_at: Date
  updated_at: Date
  activated_by: string | null
}
const COLS = 'id, name, description, conditions, action, active, created_by, created_at, updated_at, activated_by'
const toRule = (r: RuleRow): Rule => ({
  id: r.id,
  name: r.name,
  description: r.description,
  conditions: r.conditions,
  action: r.action,
  active: r.active,
  createdBy: r.created_by,
  activatedBy: r.activated_by,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
})

export async function insertRule(tx: Tx, r: Rule): Promise<Rule | undefined> {
  const [row] = await tx.query<RuleRow>(
    `insert into selectivity_rules (${COLS}) values ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10)
     on conflict (name) do nothing returning ${COLS}`,
    [
      r.id,
      r.name,
      r.description,
      JSON.stringify(r.conditions),
      JSON.stringify(r.action),
      r.active,
      r.createdBy,
      r.createdAt,
      r.updatedAt,
      r.activatedBy,
    ],
  )
  return row && toRule(row)
}

export async function findRule(db: Queryable, id: string): Promise<Rule | undefined> {
  const [row] = await db.query<RuleRow>(`select ${COLS} from selectivity_rules where id = $1`, [id])
  return row && toRule(row)
}

export async function setRuleActive(
  tx: Tx,
  id: string,
  active: boolean,
  by: string | null,
  at: string,
): Promise<Rule | undefined> {
  const [row] = await tx.query<RuleRow>(
    `update selectivity_rules set active = $2, activated_by = $3, updated_at = $4 where id = $1 returning ${COLS}`,
    [id, active, by, at],
  )
  return row && toRule(row)
}

export async function listRules(db: Queryable, activeOnly = false): Promise<Rule[]> {
  const rows = await db.query<RuleRow>(
    `select ${COLS} from selectivity_rules where ($1::boolean = false or active) order by name`,
    [activeOnly],
  )
  return rows.map(toRule)
}

/** Parameters in force at `at`: the highest version whose effective date has come. */
export async function currentParams(
  db: Queryable,
  at: string,
): Promise<{ version: number; effectiveFrom: string; params: Params; createdBy: string } | undefined> {
  const [row] = await db.query<{ version: number; effective_from: Date; params: Params; created_by: string }>(
    `select version, effective_from, params, created_by from selectivity_params where effective_from <= $1 order by version desc limit 1`,
    [at],
  )
  return (
    row && {
      version: row.version,
      effectiveFrom: new Date(row.effective_from).toISOString(),
      params: row.params,
      createdBy: row.created_by,
    }
  )
}

export async function insertParams(
  tx: Tx,
  p: { effectiveFrom: string; params: Params; createdBy: string; createdAt: string },
): Promise<number> {
  const [row] = await tx.query<{ version: number }>(
    `insert into selectivity_params (version, effective_from, params, created_by, created_at)
     select coalesce(max(version), 0) + 1, $1, $2::jsonb, $3, $4 from selectivity_params returning version`,
    [p.effectiveFrom, JSON.stringify(p.params), p.createdBy, p.createdAt],
  )
  return row!.version
}

/** Hit rates from finished inspections: by intervention source, and the random control group vs targeted picks. */
export async function hitRates(db: Queryable, from: string | null, to: string | null) {
  const rows = await db.query<{ source: string; random: boolean; inspected: number; non_compliant: number }>(
    `select i.source, coalesce((d.risk ->> 'random')::boolean, false) as random, count(*)::int as inspected,
       count(*) filter (where i.result = 'NON_COMPLIANT')::int as non_compliant
     from inspections i join declarations d on d.id = i.declaration_id and d.submitted_at = i.declaration_submitted_at
     where i.state = 'DONE' and ($1::timestamptz is null or i.finished_at >= $1) and ($2::timestamptz is null or i.finished_at < $2)
     group by 1, 2`,
    [from, to],
  )
  return rows
}
