import type { Queryable, Tx } from '../../db/index.js'
import type { Inspection, InspectionResult } from './schema.js'

export interface NewInspection {
  id: string
  declarationId: string
  declarationSubmittedAt: string
  kind: 'DOCUMENT' | 'PHYSICAL'
  source: string
  orderedAt: string
}

interface InspectionRow {
  id: string
  declaration_id: string
  declaration_submitted_at: Date
  entry_id: string | null
  kind: 'DOCUMENT' | 'PHYSICAL'
  source: string
  state: Inspection['state']
  officer_id: string | null
  ordered_at: Date
  started_at: Date | null
  finished_at: Date | null
  result: Inspection['result']
  findings: Inspection['findings']
  disposal: Inspection['disposal']
  notes: string | null
}
const COLS = `i.id, i.declaration_id, i.declaration_submitted_at, d.entry_id, i.kind, i.source, i.state, i.officer_id, i.ordered_at,
  i.started_at, i.finished_at, i.result, i.findings, i.disposal, i.notes`
const FROM =
  'inspections i join declarations d on d.id = i.declaration_id and d.submitted_at = i.declaration_submitted_at'
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null)
const toInspection = (r: InspectionRow): Inspection & { declarationSubmittedAt: string } => ({
  id: r.id,
  declarationId: r.declaration_id,
  entryId: r.entry_id,
  kind: r.kind,
  source: r.source,
  state: r.state,
  officerId: r.officer_id,
  orderedAt: iso(r.ordered_at)!,
  startedAt: iso(r.started_at),
  finishedAt: iso(r.finished_at),
  result: r.result,
  findings: r.findings,
  disposal: r.disposal,
  notes: r.notes,
  declarationSubmittedAt: iso(r.declaration_submitted_at)!,
})

export async function insertInspections(tx: Tx, xs: NewInspection[]) {
  if (xs.length === 0) return
  await tx.query(
    `insert into inspections (id, declaration_id, declaration_submitted_at, kind, source, state, ordered_at)
     select id, declaration_id, declaration_submitted_at, kind, source, 'OPEN', ordered_at
     from jsonb_to_recordset($1::jsonb) as x(id uuid, declaration_id uuid, declaration_submitted_at timestamptz, kind text, source text, ordered_at timestamptz)`,
    [
      JSON.stringify(
        xs.map((x) => ({
          id: x.id,
          declaration_id: x.declarationId,
          declaration_submitted_at: x.declarationSubmittedAt,
          kind: x.kind,
          source: x.source,
          ordered_at: x.orderedAt,
        })),
      ),
    ],
  )
}

export async function findInspection(db: Queryable, id: string, lock = false) {
  const [r] = await db.query<InspectionRow>(
    `select ${COLS} from ${FROM} where i.id = $1${lock ? ' for update of i' : ''}`,
    [id],
  )
  return r && toInspection(r)
}

export async function listInspections(
  db: Queryable,
  f: { state?: string | undefined; declarationId?: string | undefined; limit: number; offset: number },
) {
  const rows = await db.query<InspectionRow & { total: number }>(
    `select ${COLS}, count(*) over () as total from ${FROM}
     where ($1::text is null or i.state = $1) and ($2::uuid is null or i.declaration_id = $2)
     order by i.ordered_at, i.id limit $3 offset $4`,
    [f.state ?? null, f.declarationId ?? null, f.limit, f.offset],
  )
  return { items: rows.map(toInspection), total: rows[0]?.total ?? 0 }
}

export async function startInspection(tx: Tx, id: string, officerId: string, at: string) {
  const rows = await tx.query<{ id: string }>(
    `update inspections set state = 'IN_PROGRESS', officer_id = $2, started_at = $3 where id = $1 and state = 'OPEN' returning id`,
    [id, officerId, at],
  )
  return rows.length === 1
}

export async function finishInspection(tx: Tx, id: string, officerId: string, at: string, r: InspectionResult) {
  const rows = await tx.query<{ id: string }>(
    `update inspections set state = 'DONE', officer_id = coalesce(officer_id, $2), started_at = coalesce(started_at, $3), finished_at = $3,
       result = $4, findings = $5::jsonb, disposal = $6, notes = $7
     where id = $1 and state <> 'DONE' returning id`,
    [
      id,
      officerId,
      at,
      r.result,
      JSON.stringify(r.findings),
      r.disposal ?? (r.result === 'COMPLIANT' ? 'RELEASE' : null),
      r.notes ?? null,
    ],
  )
  return rows.length === 1
}
