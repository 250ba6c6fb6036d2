/** The database interfaces Kouan's code is written against (src/db/index.ts adapts PGlite and PostgreSQL to them). */

/** An audit event as recorded in a transaction (the audit log's, src/shared/audit.ts; here since a Tx carries them). */
export interface AuditEvent {
  at: Date
  actor: string
  action: string
  entityType: string
  entityId: string
  data: Record<string, unknown>
}

export type Row = Record<string, unknown>
export type Param = string | number | boolean | null | string[] | number[]

/** What repositories need of a connection: parameterised SQL ($1, $2…) returning rows. */
export interface Queryable {
  query<T = Row>(sql: string, params?: Param[]): Promise<T[]>
}

/**
 * A transaction. State-changing repository functions take a `Tx`, never a `Db`, so they cannot run outside
 * one; audit events they record are written in the same transaction just before it commits.
 */
export interface Tx extends Queryable {
  readonly inTransaction: true
  /** Runs a multi-statement SQL script inside the transaction (migrations). */
  exec(sql: string): Promise<void>
  /** Audit events recorded so far; flushed to the hash chain before commit. */
  readonly pendingAudit: AuditEvent[]
}

/** The narrow database interface Kouan uses; PGlite and PostgreSQL (via `postgres`) both adapt to it. */
export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>
  /** Runs a multi-statement SQL script (migrations). */
  exec(sql: string): Promise<void>
  close(): Promise<void>
  /** PGlite only: the data directory as a tarball (tests load a migrated copy per file). */
  dumpDataDir?(): Promise<Blob>
  /**
   * PGlite only: what autovacuum does on a server, once — vacuums and analyzes the tables whose changes since their
   * last vacuum or analyze passed autovacuum's thresholds. Returns the tables it worked on. (It also runs by itself
   * every PGLITE_MAINTENANCE_MS.)
   */
  maintain?(): Promise<string[]>
}
