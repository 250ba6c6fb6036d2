/**
 * What the fuzz suites check of an answer: the common error shape of 4xx bodies, no rows written by a refused
 * request (row counts of every application table before and after), and an answer within a time bound.
 */
import type { Db } from '../../src/db/index.js'

/**
 * Tables a refused request may legitimately change, by operation: failed logins count towards throttling, and
 * challenges are issued and spent whatever the outcome.
 */
export const MAY_WRITE_ON_REFUSAL: Record<string, readonly string[]> = {
  'POST /api/v1/auth/login': ['auth_throttle'],
  'POST /api/v1/auth/challenge': ['auth_throttle', 'auth_challenges'],
  'POST /api/v1/auth/card-login': ['auth_throttle', 'auth_challenges'],
}
/** Tables written by timers, not by requests (signed audit checkpoints). */
export const BACKGROUND_TABLES: readonly string[] = ['audit_checkpoints']

export interface TableCounts {
  sql: string
  tables: string[]
}

/** One statement counting the rows of every application table (partitioned tables counted at the parent). */
export async function tableCounter(db: Db): Promise<TableCounts> {
  const rows = await db.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition order by 1`,
  )
  const tables = rows.map((r) => r.name)
  return { tables, sql: tables.map((t) => `select '${t}' as t, count(*)::int as n from "${t}"`).join(' union all ') }
}

export async function countAll(db: Db, c: TableCounts): Promise<Map<string, number>> {
  return new Map((await db.query<{ t: string; n: number }>(c.sql)).map((r) => [r.t, r.n]))
}

/** Tables whose row count changed, other than those `allowed`. */
export function changedTables(
  before: Map<string, number>,
  after: Map<string, number>,
  allowed: readonly string[] = [],
): string[] {
  const out: string[] = []
  for (const [t, n] of after)
    if (before.get(t) !== n && !allowed.includes(t) && !BACKGROUND_TABLES.includes(t))
      out.push(`${t} ${before.get(t) ?? 0}→${n}`)
  return out
}

/** Problems with a 4xx JSON body against the common error shape (statusCode, code, message, pointer, errors[], requestId). */
export function errorShapeProblems(status: number, body: unknown): string[] {
  const p: string[] = []
  if (!body || typeof body !== 'object' || Array.isArray(body)) return ['body is not a JSON object']
  const b = body as Record<string, unknown>
  if (b.statusCode !== status) p.push(`statusCode ${String(b.statusCode)} ≠ ${status}`)
  if (typeof b.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(b.code)) p.push(`code ${JSON.stringify(b.code)}`)
  if (typeof b.message !== 'string') p.push('message is not a string')
  if (typeof b.pointer !== 'string' || (b.pointer !== '' && !b.pointer.startsWith('/')))
    p.push(`pointer ${JSON.stringify(b.pointer)}`)
  if (typeof b.requestId !== 'string' || !b.requestId) p.push('requestId missing')
  if (!Array.isArray(b.errors) || b.errors.length === 0) p.push('errors is not a non-empty array')
  else
    for (const e of b.errors as Array<Record<string, unknown>>) {
      if (typeof e?.code !== 'string' || typeof e?.message !== 'string' || typeof e?.pointer !== 'string') {
        p.push(`errors item ${JSON.stringify(e).slice(0, 200)}`)
        break
      }
    }
  return p
}

/** `p`, or a rejection once `ms` passed. */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms)
    }),
  ])
}

/** A short description of a body for a counterexample (long strings and deep nesting abbreviated). */
export function brief(text: string, max = 300): string {
  const squeezed = text.replace(/(.)\1{40,}/gs, (m, c: string) => `${c.repeat(3)}…(${m.length}×)`)
  return squeezed.length > max ? `${squeezed.slice(0, max)}… (${text.length} chars)` : squeezed
}
