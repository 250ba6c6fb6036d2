import { createHmac, scryptSync, timingSafeEqual, randomBytes } from 'node:crypto'
import type { Db, Queryable } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import { forbidden, unauthorized } from '../../errors.js'
import { algorithms } from '../../shared/signing.js'

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

export function checkPassword(password: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const actual = scryptSync(password, Buffer.from(salt, 'base64url'), expected.length)
  return timingSafeEqual(expected, actual)
}

interface TokenPayload { k: 'u' | 'c'; s: string; e: number }

/** Session tokens: `v1.<payload>.<HMAC-SHA256>`, stateless; status (revoked card, disabled user) is checked per request. */
export function issueToken(secret: string, kind: 'user' | 'card', subject: string, expiresAt: Date): string {
  const payload = Buffer.from(JSON.stringify({ k: kind === 'user' ? 'u' : 'c', s: subject, e: Math.floor(expiresAt.getTime() / 1000) } satisfies TokenPayload)).toString('base64url')
  return `v1.${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`
}

export function readToken(secret: string, token: string, now: Date): { kind: 'user' | 'card'; subject: string } | undefined {
  const [v, payload, mac, extra] = token.split('.')
  if (v !== 'v1' || !payload || !mac || extra !== undefined) return undefined
  // Compare the text, not decoded bytes: base64url decoding ignores a last character's unused bits.
  const expected = Buffer.from(createHmac('sha256', secret).update(payload).digest('base64url'))
  const given = Buffer.from(mac)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  let p: TokenPayload
  try { p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenPayload } catch { return undefined }
  if (typeof p.e !== 'number' || p.e * 1000 < now.getTime()) return undefined
  return { kind: p.k === 'u' ? 'user' : 'card', subject: p.s }
}

/** The per-installation secret that signs session tokens, shared by all processes through the database. */
export async function sessionSecret(db: Db, ids: Ids): Promise<string> {
  await db.query(`insert into settings (key, value) values ('session_secret', $1::jsonb) on conflict (key) do nothing`, [JSON.stringify(ids.token(32))])
  const [row] = await db.query<{ value: string }>(`select value from settings where key = 'session_secret'`)
  return row!.value
}

/** Reads the bearer token of an Authorization header (signature and expiry only), or throws 401. */
export function readSession(secret: string, header: string | undefined, now: Date): { kind: 'user' | 'card'; subject: string } {
  if (!header) throw unauthorized('AUTH_REQUIRED', 'a bearer token is required', '/headers/authorization')
  const m = /^Bearer\s+(\S+)$/i.exec(header)
  const tok = m ? readToken(secret, m[1]!, now) : undefined
  if (!tok) throw unauthorized('AUTH_INVALID_TOKEN', 'the session token is invalid or expired', '/headers/authorization')
  return tok
}

/** Resolves a bearer token to a live actor (card active, account enabled), or throws 401. */
export async function authenticate(db: Queryable, secret: string, header: string | undefined, now: Date): Promise<Actor> {
  const tok = readSession(secret, header, now)
  if (tok.kind === 'user') {
    const [u] = await db.query<{ id: string; role: 'admin' | 'officer'; username: string; disabled_at: Date | null }>(
      'select id, role, username, disabled_at from users where id = $1', [tok.subject])
    if (!u || u.disabled_at) throw unauthorized('AUTH_ACCOUNT_DISABLED', 'the account is disabled', '/headers/authorization')
    return { kind: 'user', id: u.id, role: u.role, name: u.username }
  }
  const [c] = await db.query<{ id: string; enterprise_id: string; card_no: string; status: string; operator_name: string }>(
    'select id, enterprise_id, card_no, status, operator_name from port_cards where id = $1', [tok.subject])
  if (!c || c.status !== 'ACTIVE') throw unauthorized('CARD_REVOKED', 'the port card of this session is revoked', '/headers/authorization')
  return { kind: 'card', id: c.id, role: 'operator', enterpriseId: c.enterprise_id, cardNo: c.card_no, name: c.operator_name }
}

/** Throws 403 unless the actor has one of `roles`. */
export function requireRole<R extends Role>(actor: Actor, ...roles: R[]): asserts actor is Extract<Actor, { role: R }> {
  if (!(roles as Role[]).includes(actor.role)) throw forbidden(`requires role ${roles.join(' or ')}`)
}

export interface AuthDeps { db: Db; clock: Clock; ids: Ids; secret: string; sessionTtl: number }

export async function passwordLogin(deps: AuthDeps, username: string, password: string) {
  const [u] = await deps.db.query<{ id: string; password_hash: string; role: string; disabled_at: Date | null }>(
    'select id, password_hash, role, disabled_at from users where username = $1', [username])
  if (!u || u.disabled_at || !checkPassword(password, u.password_hash)) {
    throw unauthorized('AUTH_BAD_CREDENTIALS', 'unknown user or wrong password', '/body/password')
  }
  const expiresAt = new Date(deps.clock.now().getTime() + deps.sessionTtl * 1000)
  return { token: issueToken(deps.secret, 'user', u.id, expiresAt), expiresAt: expiresAt.toISOString(), role: u.role }
}

const CHALLENGE_TTL_MS = 120_000

/** Step 1 of card login: a single-use random challenge the card must sign. */
export async function createChallenge(deps: AuthDeps, cardNo: string) {
  const [card] = await deps.db.query<{ id: string; status: string }>('select id, status from port_cards where card_no = $1', [cardNo])
  if (!card) throw unauthorized('CARD_UNKNOWN', `no port card ${cardNo}`, '/body/cardNo')
  if (card.status !== 'ACTIVE') throw unauthorized('CARD_REVOKED', `port card ${cardNo} is revoked`, '/body/cardNo')
  const id = deps.ids.uuid()
  const nonce = deps.ids.token(32)
  const expiresAt = new Date(deps.clock.now().getTime() + CHALLENGE_TTL_MS)
  await deps.db.query('insert into auth_challenges (id, card_id, nonce, expires_at) values ($1, $2, $3, $4)', [id, card.id, nonce, expiresAt.toISOString()])
  return { challengeId: id, challenge: `kouan-login:${cardNo}:${nonce}`, expiresAt: expiresAt.toISOString() }
}

/** Step 2 of card login: verify the card's signature over the challenge text; the challenge is spent either way. */
export async function cardLogin(deps: AuthDeps, challengeId: string, signature: string) {
  const now = deps.clock.now()
  // Spending the challenge is its own statement, committed before the checks, so a wrong signature
  // cannot be retried against the same challenge.
  const [row] = await deps.db.query<{ card_no: string; card_id: string; nonce: string; expires_at: Date; used_at: Date | null; status: string; public_key: string; alg: string }>(
    `update auth_challenges c set used_at = $2 from port_cards p
     where c.id = $1 and p.id = c.card_id and c.used_at is null
     returning p.card_no, c.card_id, c.nonce, c.expires_at, c.used_at, p.status, p.public_key, p.alg`,
    [challengeId, now.toISOString()])
  if (!row) throw unauthorized('AUTH_CHALLENGE_INVALID', 'unknown or already used challenge', '/body/challengeId')
  if (new Date(row.expires_at).getTime() < now.getTime()) throw unauthorized('AUTH_CHALLENGE_EXPIRED', 'the challenge has expired', '/body/challengeId')
  if (row.status !== 'ACTIVE') throw unauthorized('CARD_REVOKED', `port card ${row.card_no} is revoked`, '/body/challengeId')
  const text = Buffer.from(`kouan-login:${row.card_no}:${row.nonce}`, 'utf8')
  const alg = algorithms[row.alg]
  if (!alg || !alg.verify(row.public_key, text, signature)) throw unauthorized('AUTH_BAD_SIGNATURE', 'the signature does not verify against the card key', '/body/signature')
  const expiresAt = new Date(now.getTime() + deps.sessionTtl * 1000)
  return { token: issueToken(deps.secret, 'card', row.card_id, expiresAt), expiresAt: expiresAt.toISOString(), role: 'operator' }
}

export async function createUser(db: Db, clock: Clock, ids: Ids, u: { username: string; password: string; role: 'admin' | 'officer'; displayName?: string }) {
  const id = ids.uuid()
  await db.query(
    `insert into users (id, username, display_name, role, password_hash, created_at) values ($1, $2, $3, $4, $5, $6)
     on conflict (username) do update set password_hash = excluded.password_hash, role = excluded.role, disabled_at = null`,
    [id, u.username, u.displayName ?? u.username, u.role, hashPassword(u.password), clock.now().toISOString()])
  const [row] = await db.query<{ id: string }>('select id from users where username = $1', [u.username])
  return row!.id
}
