import type { Queryable } from '../../db/index.js'

/** One throttle: `threshold` attempts within `windowSeconds` of each other, then a lock of `baseSeconds`, doubled per further attempt up to `capSeconds`. */
export interface ThrottlePolicy {
  threshold: number
  baseSeconds: number
  capSeconds: number
  windowSeconds: number
}

/**
 * Takes one attempt on `key` unless it is locked, in one statement (atomic across processes): the count restarts
 * at 1 after `windowSeconds` without attempts; reaching the threshold locks the key at once, for
 * min(cap, base × 2^(count − threshold)) seconds, before the attempt is evaluated (a burst in parallel cannot slip
 * past the threshold). Returns `{ taken: true }`, or `{ taken: false, lockedUntil }` for a locked key.
 */
export async function takeAttempt(
  db: Queryable,
  key: string,
  p: ThrottlePolicy,
  now: Date,
): Promise<{ taken: true } | { taken: false; lockedUntil: Date | null }> {
  const lock = (a: string) =>
    `case when ${a} >= $3::int then $2::timestamptz + make_interval(secs => least($5::float8, $4::float8 * power(2, ${a} - $3::int))) end`
  const [row] = await db.query<{ taken: boolean; locked_until: Date | null }>(
    `with taken as (
       insert into auth_throttle as t (key, attempts, last_at, locked_until)
       select $1, 1, $2::timestamptz, ${lock('1')}
       on conflict (key) do update set (attempts, last_at, locked_until) = (
         select n.a, $2::timestamptz, ${lock('n.a')}
         from (select case when t.last_at <= $2::timestamptz - make_interval(secs => $6::float8) then 1 else t.attempts + 1 end as a) n)
       where t.locked_until is null or t.locked_until <= $2::timestamptz
       returning 1
     )
     select exists (select 1 from taken) as taken, (select locked_until from auth_throttle where key = $1) as locked_until`,
    [key, now.toISOString(), p.threshold, p.baseSeconds, p.capSeconds, p.windowSeconds],
  )
  return row!.taken ? { taken: true } : { taken: false, lockedUntil: row!.locked_until && new Date(row!.locked_until) }
}

/** Gives back an attempt that succeeded or was not evaluated: the count goes down by one and any lock it set goes. */
export async function releaseAttempt(db: Queryable, key: string): Promise<void> {
  await db.query('update auth_throttle set attempts = greatest(attempts - 1, 0), locked_until = null where key = $1', [
    key,
  ])
}

/** Forgets a key (a successful login to the account, a password set again). */
export async function clearThrottle(db: Queryable, key: string): Promise<void> {
  await db.query('delete from auth_throttle where key = $1', [key])
}

/** When `key`'s lock ends, if it is locked at `now`. */
export async function lockedUntil(db: Queryable, key: string, now: Date): Promise<Date | undefined> {
  const [row] = await db.query<{ locked_until: Date }>(
    'select locked_until from auth_throttle where key = $1 and locked_until > $2',
    [key, now.toISOString()],
  )
  return row ? new Date(row.locked_until) : undefined
}

/**
 * Stores a challenge for `cardNo` whatever the card (card_id null for a number no card has: the same statement,
 * the same work) and, in the same statement, deletes up to `purgeLimit` challenges expired before `purgeBefore`.
 */
export async function insertChallenge(
  db: Queryable,
  c: { id: string; cardNo: string; nonce: string; expiresAt: Date; purgeBefore: Date; purgeLimit: number },
): Promise<void> {
  await db.query(
    `with purged as (
       delete from auth_challenges where id in (
         select id from auth_challenges where expires_at < $5 order by expires_at limit $6 for update skip locked)
     )
     insert into auth_challenges (id, card_id, nonce, expires_at)
     select $1, (select id from port_cards where card_no = $2), $3, $4`,
    [c.id, c.cardNo, c.nonce, c.expiresAt.toISOString(), c.purgeBefore.toISOString(), c.purgeLimit],
  )
}

export interface SpentChallenge {
  card_id: string | null
  nonce: string
  expires_at: Date
  card_no: string | null
  status: string | null
  public_key: string | null
  alg: string | null
}

/** Marks a challenge used (once only: a second call finds nothing) and returns it with its card, if any. */
export async function spendChallenge(db: Queryable, id: string, at: Date): Promise<SpentChallenge | undefined> {
  const [row] = await db.query<SpentChallenge>(
    `with spent as (update auth_challenges set used_at = $2 where id = $1 and used_at is null returning card_id, nonce, expires_at)
     select s.card_id, s.nonce, s.expires_at, p.card_no, p.status, p.public_key, p.alg from spent s left join port_cards p on p.id = s.card_id`,
    [id, at.toISOString()],
  )
  return row
}

/** Deletes challenges expired before `challengesBefore` and throttle rows quiet since `throttleBefore` and unlocked at `now`, at most `limit` of each. */
export async function sweep(
  db: Queryable,
  o: { challengesBefore: Date; throttleBefore: Date; now: Date; limit: number },
): Promise<{ challenges: number; throttle: number }> {
  const [row] = await db.query<{ challenges: number; throttle: number }>(
    `with c as (
       delete from auth_challenges where id in (
         select id from auth_challenges where expires_at < $1 order by expires_at limit $4 for update skip locked)
       returning 1
     ), t as (
       delete from auth_throttle where key in (
         select key from auth_throttle where last_at < $2 and (locked_until is null or locked_until <= $3) limit $4 for update skip locked)
       returning 1
     )
     select (select count(*) from c)::int as challenges, (select count(*) from t)::int as throttle`,
    [o.challengesBefore.toISOString(), o.throttleBefore.toISOString(), o.now.toISOString(), o.limit],
  )
  return row!
}

// ---- user accounts -----------------------------------------------------------------------------------------

export interface UserRow {
  id: string
  username: string
  displayName: string
  role: 'admin' | 'officer'
  createdAt: string
  disabledAt: string | null
}
interface UserDbRow {
  id: string
  username: string
  display_name: string
  role: 'admin' | 'officer'
  created_at: Date
  disabled_at: Date | null
}
const USER_COLUMNS = 'id, username, display_name, role, created_at, disabled_at'
const toUser = (r: UserDbRow): UserRow => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  role: r.role,
  createdAt: new Date(r.created_at).toISOString(),
  disabledAt: r.disabled_at ? new Date(r.disabled_at).toISOString() : null,
})

/** Accounts by username, with their total (never the password hashes). */
export async function listUsers(
  db: Queryable,
  q: { q?: string | undefined; status?: 'active' | 'disabled' | undefined; limit: number; offset: number },
): Promise<{ items: UserRow[]; total: number }> {
  const rows = await db.query<UserDbRow & { total: number }>(
    `select ${USER_COLUMNS}, count(*) over () as total from users
     where ($1::text is null or strpos(lower(username), lower($1)) > 0 or strpos(lower(display_name), lower($1)) > 0)
       and ($2::text is null or ($2 = 'disabled') = (disabled_at is not null))
     order by username limit $3 offset $4`,
    [q.q ?? null, q.status ?? null, q.limit, q.offset],
  )
  return { items: rows.map(toUser), total: rows[0]?.total ?? 0 }
}

/** One account, locked FOR UPDATE when `lock` (in the caller's transaction). */
export async function findUser(db: Queryable, id: string, lock = false): Promise<UserRow | undefined> {
  const [r] = await db.query<UserDbRow>(`select ${USER_COLUMNS} from users where id = $1 ${lock ? 'for update' : ''}`, [
    id,
  ])
  return r && toUser(r)
}

/** Inserts an account unless the username is taken (then undefined). */
export async function insertUser(
  db: Queryable,
  u: { id: string; username: string; displayName: string; role: string; passwordHash: string; at: string },
): Promise<UserRow | undefined> {
  const [r] = await db.query<UserDbRow>(
    `insert into users (id, username, display_name, role, password_hash, created_at) values ($1, $2, $3, $4, $5, $6)
     on conflict (username) do nothing returning ${USER_COLUMNS}`,
    [u.id, u.username, u.displayName, u.role, u.passwordHash, u.at],
  )
  return r && toUser(r)
}

/** Disables (ending its sessions at `at`) or enables an account. */
export async function setDisabled(db: Queryable, id: string, at: string | null): Promise<UserRow> {
  const [r] = await db.query<UserDbRow>(
    `update users set disabled_at = $2, sessions_after = coalesce($2, sessions_after) where id = $1
     returning ${USER_COLUMNS}`,
    [id, at],
  )
  return toUser(r!)
}

/** Sets an account's password hash; the account's sessions issued until `at` end. */
export async function setPasswordHash(db: Queryable, id: string, hash: string, at: string): Promise<void> {
  await db.query('update users set password_hash = $2, sessions_after = $3 where id = $1', [id, hash, at])
}
