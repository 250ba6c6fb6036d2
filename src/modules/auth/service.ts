import { createHmac, scryptSync, timingSafeEqual, randomBytes } from 'node:crypto'
import ipaddr from 'ipaddr.js'
import type { Db, Queryable } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import { conflict, forbidden, notFound, rateLimited, unauthorized } from '../../errors.js'
import { appendAudit } from '../../shared/audit.js'
import { algorithms, ed25519 } from '../../shared/signing.js'
import * as repo from './repo.js'
import type { ThrottlePolicy } from './repo.js'

export type Role = 'admin' | 'officer' | 'operator'

/** Who is calling: a customs user (officer/admin, password login) or an enterprise operator (port card). */
export type Actor =
  | { kind: 'user'; id: string; role: 'admin' | 'officer'; name: string }
  | { kind: 'card'; id: string; role: 'operator'; enterpriseId: string; cardNo: string; name: string }

/** How an actor appears in the audit log. */
export const actorRef = (a: Actor | { kind: 'system'; name: string }) =>
  a.kind === 'system' ? `system:${a.name}` : a.kind === 'user' ? `user:${a.name}` : `card:${a.cardNo}`

export const SYSTEM = { kind: 'system' as const, name: 'kouan' }

// scrypt parameters: N=2^14, r=8, p=1 (OWASP minimum for scrypt), 64-byte key.
export function hashPassword(password: string, salt = randomBytes(16)): string {
  return `scrypt$${salt.toString('base64url')}$${scryptSync(password, salt, 64).toString('base64url')}`
}

/**
 * Checked when the username names no account, so that an unknown username costs one scrypt like a known one
 * (same parameters, salt and key lengths); its password is random and never kept, so nothing matches it.
 */
export const DUMMY_PASSWORD_HASH = hashPassword(randomBytes(32).toString('base64url'))

/** The hash a login attempt is checked against: the account's, or {@link DUMMY_PASSWORD_HASH} without one. */
export const loginHash = (user: { password_hash: string } | undefined): string =>
  user?.password_hash ?? DUMMY_PASSWORD_HASH

export function checkPassword(password: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const actual = scryptSync(password, Buffer.from(salt, 'base64url'), expected.length)
  return timingSafeEqual(expected, actual)
}

interface TokenPayload {
  k: 'u' | 'c'
  s: string
  e: number
  /** Issued at, epoch milliseconds: a user's sessions issued until `users.sessions_after` have ended. */
  i?: number
}

/** Session tokens: `v1.<payload>.<HMAC-SHA256>`, stateless; status (revoked card, disabled user) is checked per request. */
export function issueToken(
  secret: string,
  kind: 'user' | 'card',
  subject: string,
  expiresAt: Date,
  issuedAt?: Date,
): string {
  const payload = Buffer.from(
    JSON.stringify({
      k: kind === 'user' ? 'u' : 'c',
      s: subject,
      e: Math.floor(expiresAt.getTime() / 1000),
      ...(issuedAt ? { i: issuedAt.getTime() } : {}),
    } satisfies TokenPayload),
  ).toString('base64url')
  return `v1.${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`
}

export function readToken(
  secret: string,
  token: string,
  now: Date,
): { kind: 'user' | 'card'; subject: string; issuedAt?: number } | undefined {
  const [v, payload, mac, extra] = token.split('.')
  if (v !== 'v1' || !payload || !mac || extra !== undefined) return undefined
  // Compare the text, not decoded bytes: base64url decoding ignores a last character's unused bits.
  const expected = Buffer.from(createHmac('sha256', secret).update(payload).digest('base64url'))
  const given = Buffer.from(mac)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  let p: TokenPayload
  try {
    p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenPayload
  } catch {
    return undefined
  }
  if (typeof p.e !== 'number' || p.e * 1000 < now.getTime()) return undefined
  return { kind: p.k === 'u' ? 'user' : 'card', subject: p.s, ...(typeof p.i === 'number' ? { issuedAt: p.i } : {}) }
}

/** The per-installation secret that signs session tokens, shared by all processes through the database. */
export async function sessionSecret(db: Db, ids: Ids): Promise<string> {
  await db.query(
    `insert into settings (key, value) values ('session_secret', $1::jsonb) on conflict (key) do nothing`,
    [JSON.stringify(ids.token(32))],
  )
  const [row] = await db.query<{ value: string }>(`select value from settings where key = 'session_secret'`)
  return row!.value
}

/** Reads the bearer token of an Authorization header (signature and expiry only), or throws 401. */
export function readSession(
  secret: string,
  header: string | undefined,
  now: Date,
): { kind: 'user' | 'card'; subject: string; issuedAt?: number } {
  if (!header) throw unauthorized('AUTH_REQUIRED', 'a bearer token is required', '/headers/authorization')
  const m = /^Bearer\s+(\S+)$/i.exec(header)
  const tok = m ? readToken(secret, m[1]!, now) : undefined
  if (!tok)
    throw unauthorized('AUTH_INVALID_TOKEN', 'the session token is invalid or expired', '/headers/authorization')
  return tok
}

/**
 * Resolves a bearer token to a live actor (card active, account enabled, the user's session not ended by a disable or
 * a password set since it was issued), or throws 401.
 */
export async function authenticate(
  db: Queryable,
  secret: string,
  header: string | undefined,
  now: Date,
): Promise<Actor> {
  const tok = readSession(secret, header, now)
  if (tok.kind === 'user') {
    const [u] = await db.query<{
      id: string
      role: 'admin' | 'officer'
      username: string
      disabled_at: Date | null
      sessions_after: Date | null
    }>('select id, role, username, disabled_at, sessions_after from users where id = $1', [tok.subject])
    if (!u || u.disabled_at)
      throw unauthorized('AUTH_ACCOUNT_DISABLED', 'the account is disabled', '/headers/authorization')
    // Tokens from before the account was last disabled or its password set (or without an issue time) have ended.
    if (u.sessions_after && !((tok.issuedAt ?? 0) > new Date(u.sessions_after).getTime()))
      throw unauthorized(
        'AUTH_SESSION_ENDED',
        'this session ended when the account was disabled or its password set; sign in again',
        '/headers/authorization',
      )
    return { kind: 'user', id: u.id, role: u.role, name: u.username }
  }
  const [c] = await db.query<{
    id: string
    enterprise_id: string
    card_no: string
    status: string
    operator_name: string
  }>('select id, enterprise_id, card_no, status, operator_name from port_cards where id = $1', [tok.subject])
  if (!c || c.status !== 'ACTIVE')
    throw unauthorized('CARD_REVOKED', 'the port card of this session is revoked', '/headers/authorization')
  return {
    kind: 'card',
    id: c.id,
    role: 'operator',
    enterpriseId: c.enterprise_id,
    cardNo: c.card_no,
    name: c.operator_name,
  }
}

/** Throws 403 unless the actor has one of `roles`. */
export function requireRole<R extends Role>(actor: Actor, ...roles: R[]): asserts actor is Extract<Actor, { role: R }> {
  if (!(roles as Role[]).includes(actor.role)) throw forbidden(`requires role ${roles.join(' or ')}`)
}

export interface AuthDeps {
  db: Db
  clock: Clock
  ids: Ids
  secret: string
  sessionTtl: number
}

/**
 * Login throttling (ARCHITECTURE.md, Security). Per account (any username, known or not, so a lock tells nothing
 * about existence): 5 attempts, then 30 s, doubling per further failure up to 15 minutes. Per client address
 * (IPv6: its /64), over all accounts and card logins: 50, then the same backoff. A count restarts after an hour
 * without attempts. Attempts refused while locked are not counted and do not extend the lock.
 */
export const THROTTLE: { account: ThrottlePolicy; address: ThrottlePolicy } = {
  account: { threshold: 5, baseSeconds: 30, capSeconds: 900, windowSeconds: 3600 },
  address: { threshold: 50, baseSeconds: 30, capSeconds: 900, windowSeconds: 3600 },
}

const accountKey = (username: string) => `user:${username}`

/** The throttle key of a client address: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64 (one host's usual share). */
export function addressKey(ip: string): string {
  try {
    const a = ipaddr.process(ip)
    if (a.kind() === 'ipv6')
      return `addr:${(a as ipaddr.IPv6).parts
        .slice(0, 4)
        .map((p) => p.toString(16))
        .join(':')}::/64`
    return `addr:${a.toString()}`
  } catch {
    return `addr:${ip}`
  }
}

function refused(lockedUntil: Date | null | undefined, now: Date, pointer: string, what: string) {
  // A lock committed by another process after this statement's snapshot: its end is unknown here, say the base.
  const ms = lockedUntil ? lockedUntil.getTime() - now.getTime() : THROTTLE.account.baseSeconds * 1000
  return rateLimited(`too many failed logins ${what}; retry later`, ms, pointer)
}

/** Takes an attempt of the client address, or throws 429. */
async function takeAddress(db: Queryable, key: string, now: Date) {
  const r = await repo.takeAttempt(db, key, THROTTLE.address, now)
  if (!r.taken) throw refused(r.lockedUntil, now, '', 'from this address')
}

export async function passwordLogin(deps: AuthDeps, username: string, password: string, ip: string) {
  const now = deps.clock.now()
  const account = accountKey(username)
  const address = addressKey(ip)
  const a = await repo.takeAttempt(deps.db, account, THROTTLE.account, now)
  if (!a.taken) throw refused(a.lockedUntil, now, '/body/username', 'for this account')
  try {
    await takeAddress(deps.db, address, now)
  } catch (e) {
    await repo.releaseAttempt(deps.db, account)
    throw e
  }
  const [u] = await deps.db.query<{ id: string; password_hash: string; role: string; disabled_at: Date | null }>(
    'select id, password_hash, role, disabled_at from users where username = $1',
    [username],
  )
  // Always one scrypt: against the dummy hash for an unknown username, and before looking at disabled_at.
  const matches = checkPassword(password, loginHash(u))
  if (!u || u.disabled_at || !matches) {
    throw unauthorized('AUTH_BAD_CREDENTIALS', 'unknown user or wrong password', '/body/password')
  }
  await repo.clearThrottle(deps.db, account)
  await repo.releaseAttempt(deps.db, address)
  const expiresAt = new Date(now.getTime() + deps.sessionTtl * 1000)
  return {
    token: issueToken(deps.secret, 'user', u.id, expiresAt, now),
    expiresAt: expiresAt.toISOString(),
    role: u.role,
  }
}

const CHALLENGE_TTL_MS = 120_000
/** Expired challenges are kept this long (answering AUTH_CHALLENGE_EXPIRED), then purged. */
const CHALLENGE_KEEP_MS = 5 * 60_000
/** Expired challenges deleted by each new challenge: more than one, so the table shrinks to the live ones. */
const PURGE_ON_INSERT = 100

/**
 * Step 1 of card login: a single-use random challenge the card must sign. Any card number gets one, in the same
 * shape and with the same work (one insert): for a number no card has it can never succeed, for a revoked card
 * only the key holder learns it is revoked. Each insert also purges up to 100 expired challenges.
 */
export async function createChallenge(deps: AuthDeps, cardNo: string, ip: string) {
  const now = deps.clock.now()
  const locked = await repo.lockedUntil(deps.db, addressKey(ip), now)
  if (locked) throw refused(locked, now, '', 'from this address')
  const id = deps.ids.uuid()
  const nonce = deps.ids.token(32)
  const expiresAt = new Date(now.getTime() + CHALLENGE_TTL_MS)
  await repo.insertChallenge(deps.db, {
    id,
    cardNo,
    nonce,
    expiresAt,
    purgeBefore: new Date(now.getTime() - CHALLENGE_KEEP_MS),
    purgeLimit: PURGE_ON_INSERT,
  })
  return { challengeId: id, challenge: `kouan-login:${cardNo}:${nonce}`, expiresAt: expiresAt.toISOString() }
}

/** Verifies the signatures of challenges issued to no card, so they cost what a wrong signature costs. */
const NO_CARD_KEY = ed25519.generate().publicKey

/**
 * Step 2 of card login: verify the card's signature over the challenge text; the challenge is spent either way.
 * Failures count against the client address (not the card: signatures cannot be guessed, and a per-card lock
 * would only let anyone lock a card holder out).
 */
export async function cardLogin(deps: AuthDeps, challengeId: string, signature: string, ip: string) {
  const now = deps.clock.now()
  const address = addressKey(ip)
  await takeAddress(deps.db, address, now)
  // Spending the challenge is its own statement, committed before the checks, so a wrong signature
  // cannot be retried against the same challenge.
  const row = await repo.spendChallenge(deps.db, challengeId, now)
  if (!row) throw unauthorized('AUTH_CHALLENGE_INVALID', 'unknown or already used challenge', '/body/challengeId')
  if (new Date(row.expires_at).getTime() < now.getTime())
    throw unauthorized('AUTH_CHALLENGE_EXPIRED', 'the challenge has expired', '/body/challengeId')
  const text = Buffer.from(`kouan-login:${row.card_no ?? ''}:${row.nonce}`, 'utf8')
  const alg = row.alg ? algorithms[row.alg] : ed25519
  let verified = false
  try {
    verified = !!alg && alg.verify(row.public_key ?? NO_CARD_KEY, text, signature) && row.card_id !== null
  } catch {
    verified = false
  }
  if (!verified)
    throw unauthorized('AUTH_BAD_SIGNATURE', 'the signature does not verify against the card key', '/body/signature')
  // Only the holder of the card's key learns that the card is revoked.
  if (row.status !== 'ACTIVE')
    throw unauthorized('CARD_REVOKED', `port card ${row.card_no} is revoked`, '/body/challengeId')
  await repo.releaseAttempt(deps.db, address)
  const expiresAt = new Date(now.getTime() + deps.sessionTtl * 1000)
  return {
    token: issueToken(deps.secret, 'card', row.card_id!, expiresAt, now),
    expiresAt: expiresAt.toISOString(),
    role: 'operator',
  }
}

/** Deletes expired challenges and throttle counters quiet for their window and unlocked (bounded per call). */
export async function sweepAuth(deps: { db: Queryable; clock: Clock }, limit = 10_000) {
  const now = deps.clock.now()
  const window = Math.max(THROTTLE.account.windowSeconds, THROTTLE.address.windowSeconds) * 1000
  return repo.sweep(deps.db, {
    challengesBefore: new Date(now.getTime() - CHALLENGE_KEEP_MS),
    throttleBefore: new Date(now.getTime() - window),
    now,
    limit,
  })
}

export async function createUser(
  db: Db,
  clock: Clock,
  ids: Ids,
  u: { username: string; password: string; role: 'admin' | 'officer'; displayName?: string },
) {
  const id = ids.uuid()
  await db.query(
    `insert into users (id, username, display_name, role, password_hash, created_at) values ($1, $2, $3, $4, $5, $6)
     on conflict (username) do update set password_hash = excluded.password_hash, role = excluded.role, disabled_at = null`,
    [id, u.username, u.displayName ?? u.username, u.role, hashPassword(u.password), clock.now().toISOString()],
  )
  const [row] = await db.query<{ id: string }>('select id from users where username = $1', [u.username])
  // Setting the password again lifts a login lock on the account.
  await repo.clearThrottle(db, accountKey(u.username))
  return row!.id
}

// ---- user accounts (admins, /api/v1/users) ------------------------------------------------------------------

export interface UserDeps {
  db: Db
  clock: Clock
  ids: Ids
}

const userNotFound = () => notFound('USER_NOT_FOUND', 'user account', '/params/id')

/** Accounts, by username (no password hashes). */
export const listUsers = (db: Queryable, q: Parameters<typeof repo.listUsers>[1]) => repo.listUsers(db, q)

/**
 * An admin creates an account (audited). Unlike `kouan user add`, an existing username is refused (409), never reset;
 * without a password one is generated as the CLI does and returned once.
 */
export async function addUser(
  deps: UserDeps,
  admin: Actor,
  u: { username: string; displayName?: string | undefined; role: 'admin' | 'officer'; password?: string | undefined },
): Promise<{ user: repo.UserRow; password?: string }> {
  const password = u.password ?? deps.ids.token(12)
  const passwordHash = hashPassword(password)
  const user = await deps.db.transaction(async (tx) => {
    const at = deps.clock.now()
    const row = await repo.insertUser(tx, {
      id: deps.ids.uuid(),
      username: u.username,
      displayName: u.displayName?.trim() || u.username,
      role: u.role,
      passwordHash,
      at: at.toISOString(),
    })
    if (!row) throw conflict('USER_EXISTS', `the username ${u.username} is taken`, '/body/username')
    await repo.clearThrottle(tx, accountKey(u.username))
    appendAudit(tx, {
      at,
      actor: actorRef(admin),
      action: 'USER_CREATED',
      entityType: 'user',
      entityId: row.id,
      data: { username: row.username, displayName: row.displayName, role: row.role },
    })
    return row
  })
  return { user, ...(u.password === undefined ? { password } : {}) }
}

/**
 * Disables or enables an account (audited; no change, no audit row). Disabling ends the account's sessions at once
 * (every request checks the account) and for good: tokens issued before it stay ended after an enable. An admin
 * cannot disable their own account (so an enabled admin always remains).
 */
export async function setUserDisabled(deps: UserDeps, admin: Actor, id: string, disabled: boolean) {
  if (disabled && admin.kind === 'user' && admin.id === id)
    throw conflict('USER_SELF_DISABLE', 'an admin cannot disable their own account', '/params/id')
  return deps.db.transaction(async (tx) => {
    const u = await repo.findUser(tx, id, true)
    if (!u) throw userNotFound()
    if ((u.disabledAt !== null) === disabled) return u
    const at = deps.clock.now()
    const row = await repo.setDisabled(tx, id, disabled ? at.toISOString() : null)
    appendAudit(tx, {
      at,
      actor: actorRef(admin),
      action: disabled ? 'USER_DISABLED' : 'USER_ENABLED',
      entityType: 'user',
      entityId: id,
      data: { username: u.username },
    })
    return row
  })
}

/** An admin sets an account's password (audited): its sessions end and a login lock on it is lifted. */
export async function setUserPassword(deps: UserDeps, admin: Actor, id: string, password: string) {
  const hash = hashPassword(password)
  return deps.db.transaction(async (tx) => {
    const u = await repo.findUser(tx, id, true)
    if (!u) throw userNotFound()
    const at = deps.clock.now()
    await repo.setPasswordHash(tx, id, hash, at.toISOString())
    await repo.clearThrottle(tx, accountKey(u.username))
    appendAudit(tx, {
      at,
      actor: actorRef(admin),
      action: 'USER_PASSWORD_SET',
      entityType: 'user',
      entityId: id,
      data: { username: u.username },
    })
    return u
  })
}
