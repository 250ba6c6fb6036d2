import type { Queryable, Tx } from '../../db/index.js'

const iso = (d: Date | string) => new Date(d).toISOString()

// ---- checkpoint keys ---------------------------------------------------------------------------------------

export interface CheckpointKeyRow {
  kid: string
  alg: string
  publicKey: string
  status: 'ACTIVE' | 'RETIRED'
  activatedAt: string
  retiredAt: string | null
}
interface KeyDbRow {
  kid: string
  alg: string
  public_key: string
  status: 'ACTIVE' | 'RETIRED'
  activated_at: Date
  retired_at: Date | null
}
const toKey = (r: KeyDbRow): CheckpointKeyRow => ({
  kid: r.kid,
  alg: r.alg,
  publicKey: r.public_key,
  status: r.status,
  activatedAt: iso(r.activated_at),
  retiredAt: r.retired_at ? iso(r.retired_at) : null,
})

/** Public halves of every checkpoint key, oldest first. */
export async function listKeys(db: Queryable): Promise<CheckpointKeyRow[]> {
  const rows = await db.query<KeyDbRow>(
    'select kid, alg, public_key, status, activated_at, retired_at from audit_checkpoint_keys order by activated_at, kid',
  )
  return rows.map(toKey)
}

/** The active key: its id, algorithm and private key (null when it lives in a key file). `lock`: FOR SHARE or FOR UPDATE. */
export async function activeKey(
  db: Queryable,
  lock: '' | 'for share' | 'for update' = '',
): Promise<{ kid: string; alg: string; privateKey: string | null } | undefined> {
  const [r] = await db.query<{ kid: string; alg: string; private_key: string | null }>(
    `select kid, alg, private_key from audit_checkpoint_keys where status = 'ACTIVE' ${lock}`,
  )
  return r && { kid: r.kid, alg: r.alg, privateKey: r.private_key }
}

export async function keyStatus(db: Queryable, kid: string): Promise<'ACTIVE' | 'RETIRED' | undefined> {
  const [r] = await db.query<{ status: 'ACTIVE' | 'RETIRED' }>(
    'select status from audit_checkpoint_keys where kid = $1',
    [kid],
  )
  return r?.status
}

/**
 * Serialises key changes (also when there is no active row to lock yet: two processes starting at once make one key)
 * and returns the active key, locked FOR UPDATE so checkpoints being signed with it finish first.
 */
export async function lockKeys(tx: Tx): Promise<Awaited<ReturnType<typeof activeKey>>> {
  await tx.query(`select pg_advisory_xact_lock(hashtext('kouan.audit_checkpoint_keys'))`)
  return activeKey(tx, 'for update')
}

/** Retires the active key (it keeps verifying what it signed); returns its kid. */
export async function retireActiveKey(tx: Tx, at: string): Promise<string | undefined> {
  const [r] = await tx.query<{ kid: string }>(
    `update audit_checkpoint_keys set status = 'RETIRED', retired_at = $1 where status = 'ACTIVE' returning kid`,
    [at],
  )
  return r?.kid
}

/** Inserts a key as ACTIVE unless another is active or the key exists (returns false then). */
export async function insertActiveKey(
  tx: Tx,
  k: { kid: string; alg: string; publicKey: string; privateKey: string | null; createdBy: string; at: string },
): Promise<boolean> {
  const rows = await tx.query<{ kid: string }>(
    `insert into audit_checkpoint_keys (kid, alg, public_key, private_key, status, created_by, activated_at)
     values ($1, $2, $3, $4, 'ACTIVE', $5, $6) on conflict do nothing returning kid`,
    [k.kid, k.alg, k.publicKey, k.privateKey, k.createdBy, k.at],
  )
  return rows.length === 1
}

// ---- checkpoints -------------------------------------------------------------------------------------------

/** Chain heads that moved since their last checkpoint (or were never checkpointed and hold rows). */
export async function headsDue(tx: Tx): Promise<Array<{ chain: number; seq: number; hash: string }>> {
  return tx.query(
    `select h.chain, h.seq, h.hash from audit_heads h
     where h.seq > coalesce((select max(c.seq) from audit_checkpoints c where c.chain = h.chain), 0)
     order by h.chain`,
  )
}

export interface CheckpointRow {
  chain: number
  seq: number
  hash: string
  at: string
  kid: string
  alg: string
  signature: string
}

/** Inserts checkpoints; one already there for the same (chain, seq) is kept (another process took it). */
export async function insertCheckpoints(tx: Tx, rows: CheckpointRow[]): Promise<number> {
  if (rows.length === 0) return 0
  const r = await tx.query<{ chain: number }>(
    `insert into audit_checkpoints (chain, seq, hash, at, kid, alg, signature)
     select chain, seq, hash, at, kid, alg, signature
     from jsonb_to_recordset($1::jsonb) as x(chain smallint, seq bigint, hash text, at timestamptz, kid text, alg text, signature text)
     on conflict do nothing returning chain`,
    [JSON.stringify(rows)],
  )
  return r.length
}

export interface StoredCheckpoint extends CheckpointRow {
  publicKey: string
}

/** Checkpoints in (at, chain) order after the cursor `after` (exclusive), with their key's public half. */
export async function listCheckpoints(
  db: Queryable,
  o: { after?: { at: string; chain: number } | undefined; since?: string | undefined; limit: number },
): Promise<StoredCheckpoint[]> {
  const rows = await db.query<{
    chain: number
    seq: number
    hash: string
    at: Date
    kid: string
    alg: string
    signature: string
    public_key: string
  }>(
    `select c.chain, c.seq, c.hash, c.at, c.kid, c.alg, c.signature, k.public_key
     from audit_checkpoints c join audit_checkpoint_keys k on k.kid = c.kid
     where ($1::timestamptz is null or (c.at, c.chain) > ($1::timestamptz, $2::smallint))
       and ($3::timestamptz is null or c.at > $3::timestamptz)
     order by c.at, c.chain limit $4`,
    [o.after?.at ?? null, o.after?.chain ?? 0, o.since ?? null, o.limit],
  )
  return rows.map((r) => ({
    chain: r.chain,
    seq: r.seq,
    hash: r.hash,
    at: iso(r.at),
    kid: r.kid,
    alg: r.alg,
    signature: r.signature,
    publicKey: r.public_key,
  }))
}

// ---- application role (PostgreSQL) -------------------------------------------------------------------------

/** Grants the application role its rights (owner's function from migration 0010; run as the owner). */
export async function grantAppRole(tx: Tx, role: string): Promise<void> {
  await tx.query('select kouan_grant_app_role($1)', [role])
}

/** Who we are connected as, and whether that role owns the audit log or is a superuser. */
export async function connectionRole(
  db: Queryable,
): Promise<{ role: string; superuser: boolean; ownsAuditLog: boolean }> {
  const [r] = await db.query<{ role: string; superuser: boolean; owns: boolean }>(
    `select current_user as role, (select rolsuper from pg_roles where rolname = current_user) as superuser,
       pg_has_role(current_user, (select relowner from pg_class where oid = 'audit_log'::regclass), 'MEMBER') as owns`,
  )
  return { role: r!.role, superuser: r!.superuser, ownsAuditLog: r!.owns }
}

/** The append-only triggers of migration 0010 that are missing or not in force (on a table or any audit_log partition). */
export async function triggerProblems(
  db: Queryable,
): Promise<Array<{ table: string; trigger: string; state: 'MISSING' | 'DISABLED' }>> {
  return db.query(
    `with expected (rel, tgname) as (
       select r::regclass, t from unnest(array['audit_log', 'audit_heads', 'audit_checkpoints', 'audit_checkpoint_keys']) as r,
         lateral unnest(case r when 'audit_log' then array['audit_log_append_only', 'audit_log_no_truncate']
                               when 'audit_heads' then array['audit_heads_forward', 'audit_heads_no_truncate']
                               when 'audit_checkpoints' then array['audit_checkpoints_append_only', 'audit_checkpoints_no_truncate']
                               else array['audit_checkpoint_keys_retire_only', 'audit_checkpoint_keys_no_truncate'] end) as t
       union all
       select i.inhrelid::regclass, t from pg_inherits i, unnest(array['audit_log_append_only', 'audit_log_no_truncate']) as t
       where i.inhparent = 'audit_log'::regclass)
     select e.rel::text as table, e.tgname as trigger, case when t.oid is null then 'MISSING' else 'DISABLED' end as state
     from expected e left join pg_trigger t on t.tgrelid = e.rel and t.tgname = e.tgname
     where t.oid is null or t.tgenabled not in ('O', 'A')
     order by 1, 2`,
  )
}

/** How many hash chains the log has (rows of audit_heads). */
export async function chainCount(db: Queryable): Promise<number> {
  const [r] = await db.query<{ n: number }>('select count(*)::int as n from audit_heads')
  return r!.n
}
