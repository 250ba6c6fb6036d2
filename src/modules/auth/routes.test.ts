import { beforeAll, describe, expect, it } from 'vitest'
import { T0, useTestApp } from '../../../test/app.js'
import { buildEnterprise, buildOperator, loginUser, type Headers, type TestOperator } from '../../../test/factories.js'
import { buildApp } from '../../app.js'
import { loadConfig } from '../../config.js'
import { countRows } from '../../../test/db.js'
import {
  addressKey,
  checkPassword,
  createUser,
  DUMMY_PASSWORD_HASH,
  hashPassword,
  issueToken,
  loginHash,
  sweepAuth,
} from './service.js'
import { systemIds } from '../../shared/clock.js'

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const EIGHT_HOURS = 8 * 3600_000

/** The token with the base64url character at `i` of its MAC replaced by the one whose value differs by `xor`. */
function alterMac(token: string, i: number, xor: number): string {
  const [v, payload, mac] = token.split('.') as [string, string, string]
  const ch = B64URL[B64URL.indexOf(mac[i]!) ^ xor]!
  return `${v}.${payload}.${mac.slice(0, i)}${ch}${mac.slice(i + 1)}`
}
const bearer = (token: string): Headers => ({ authorization: `Bearer ${token}` })

describe('auth API', () => {
  const t = useTestApp()
  let officer: { id: string; username: string; headers: Headers }
  let op: TestOperator
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    op = await buildOperator(t, officer, await buildEnterprise(t, officer))
  })
  const login = (username: string, password: string, remoteAddress?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username, password },
      ...(remoteAddress ? { remoteAddress } : {}),
    })
  const me = (headers?: Record<string, string>) =>
    t.app.inject({ method: 'GET', url: '/api/v1/auth/me', ...(headers ? { headers } : {}) })
  const newUser = async (role: 'officer' | 'admin' = 'officer') => {
    const username = `user-${systemIds.token(6)}`
    const password = `pw-${systemIds.token(12)}`
    const id = await createUser(t.db, t.clock, systemIds, { username, password, role })
    return { id, username, password }
  }

  describe('password login', () => {
    it('issues an 8-hour session for the right password', async () => {
      const u = await newUser('admin')
      const res = await login(u.username, u.password)
      expect(res.statusCode).toBe(200)
      const s = res.json()
      expect(s).toMatchObject({
        role: 'admin',
        expiresAt: new Date(t.clock.now().getTime() + EIGHT_HOURS).toISOString(),
      })
      expect(s.token).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
      expect((await me(bearer(s.token))).json()).toEqual({ kind: 'user', id: u.id, role: 'admin', name: u.username })
    })

    it('refuses a wrong password with 401 AUTH_BAD_CREDENTIALS at /body/password', async () => {
      const u = await newUser()
      const res = await login(u.username, u.password + 'x')
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'AUTH_BAD_CREDENTIALS', pointer: '/body/password' })
      expect(res.json().token).toBeUndefined()
    })

    it('answers an unknown user exactly like a wrong password', async () => {
      const u = await newUser()
      const wrong = await login(u.username, 'not-the-password')
      const unknown = await login(`nobody-${systemIds.token(6)}`, 'not-the-password')
      expect(unknown.statusCode).toBe(401)
      expect({ ...unknown.json(), requestId: '' }).toEqual({ ...wrong.json(), requestId: '' })
    })

    it('checks an unknown username against a dummy scrypt hash made like real ones, which no password matches', async () => {
      const real = hashPassword('some password')
      const shape = (h: string) =>
        h.split('$').map((part, i) => (i === 0 ? part : Buffer.from(part, 'base64url').length))
      expect(loginHash(undefined)).toBe(DUMMY_PASSWORD_HASH)
      expect(shape(DUMMY_PASSWORD_HASH)).toEqual(['scrypt', 16, 64])
      expect(shape(DUMMY_PASSWORD_HASH)).toEqual(shape(real))
      expect(loginHash({ password_hash: real })).toBe(real)
      for (const pw of ['', 'some password', 'not-the-password'])
        expect(checkPassword(pw, DUMMY_PASSWORD_HASH)).toBe(false)
    })

    it('refuses a disabled account at login and ends its open sessions', async () => {
      const u = await newUser()
      const { token } = (await login(u.username, u.password)).json()
      await t.db.query('update users set disabled_at = $2 where id = $1', [u.id, t.clock.now().toISOString()])
      const res = await login(u.username, u.password)
      expect(res.statusCode).toBe(401)
      expect(res.json().code).toBe('AUTH_BAD_CREDENTIALS')
      const session = await me(bearer(token))
      expect(session.statusCode).toBe(401)
      expect(session.json()).toMatchObject({ code: 'AUTH_ACCOUNT_DISABLED', pointer: '/headers/authorization' })
    })

    it('refuses an empty password at the schema with 400', async () => {
      const res = await login(officer.username, '')
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', pointer: '/body/password' })
    })
  })

  describe('throttling (counters in the database, per account and per client address)', () => {
    const wrong = 'not-the-password'
    const statuses = (rs: { statusCode: number }[]) => rs.map((r) => r.statusCode)

    it('locks an account after 5 failures: 429 RATE_LIMITED with Retry-After, even for the right password; doubles per further failure', async () => {
      const u = await newUser()
      const addr = '203.0.113.10'
      for (let i = 0; i < 5; i++) expect((await login(u.username, wrong, addr)).statusCode).toBe(401)
      for (const pw of [wrong, u.password]) {
        const res = await login(u.username, pw, addr)
        expect(res.statusCode).toBe(429)
        expect(res.headers['retry-after']).toBe('30')
        expect(res.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED', pointer: '/body/username' })
        expect(res.json().token).toBeUndefined()
      }
      t.clock.advance(30_000)
      expect((await login(u.username, wrong, addr)).statusCode).toBe(401)
      expect((await login(u.username, u.password, addr)).headers['retry-after']).toBe('60')
      t.clock.advance(60_000)
      expect((await login(u.username, wrong, addr)).statusCode).toBe(401)
      expect((await login(u.username, u.password, addr)).headers['retry-after']).toBe('120')
    })

    it('caps the lockout at 15 minutes however many failures', async () => {
      const u = await newUser()
      const addr = '203.0.113.11'
      const locks: string[] = []
      for (let failures = 0; failures < 12;) {
        const res = await login(u.username, wrong, addr)
        if (res.statusCode === 401) {
          failures++
          continue
        }
        expect(res.statusCode).toBe(429)
        locks.push(res.headers['retry-after'] as string)
        t.clock.advance(Number(res.headers['retry-after']) * 1000)
      }
      expect(locks).toEqual(['30', '60', '120', '240', '480', '900', '900'])
    })

    it('does not extend a lockout for attempts refused during it, and the right password after it logs in and resets the count', async () => {
      const u = await newUser()
      const addr = '203.0.113.12'
      for (let i = 0; i < 5; i++) await login(u.username, wrong, addr)
      t.clock.advance(10_000)
      for (let i = 0; i < 20; i++) expect((await login(u.username, wrong, addr)).headers['retry-after']).toBe('20')
      t.clock.advance(20_000)
      expect((await login(u.username, u.password, addr)).statusCode).toBe(200)
      expect(await countRows(t.db, 'auth_throttle', 'key = $1', [`user:${u.username}`])).toBe(0)
      for (let i = 0; i < 4; i++) expect((await login(u.username, wrong, addr)).statusCode).toBe(401)
      expect((await login(u.username, u.password, addr)).statusCode).toBe(200)
    })

    it('locks an unknown username exactly like a known one (no oracle in the lockout)', async () => {
      const u = await newUser()
      const ghost = `nobody-${systemIds.token(6)}`
      const addr = '203.0.113.13'
      const known: string[] = []
      const unknown: string[] = []
      for (let i = 0; i < 7; i++) {
        const a = await login(u.username, wrong, addr)
        const b = await login(ghost, wrong, addr)
        known.push(`${a.statusCode} ${a.headers['retry-after'] ?? ''} ${a.json().code}`)
        unknown.push(`${b.statusCode} ${b.headers['retry-after'] ?? ''} ${b.json().code}`)
      }
      expect(unknown).toEqual(known)
      expect(known.at(-1)).toBe('429 30 RATE_LIMITED')
    })

    it('evaluates only 5 of a burst of parallel attempts on one account; the others are refused', async () => {
      const u = await newUser()
      const rs = await Promise.all(Array.from({ length: 12 }, () => login(u.username, wrong, '203.0.113.14')))
      expect(statuses(rs).sort()).toEqual([...Array(5).fill(401), ...Array(7).fill(429)])
    })

    it('limits a client address to 50 failures over any accounts, leaving other addresses alone', async () => {
      const addr = '198.51.100.20'
      const rs = await Promise.all(
        Array.from({ length: 50 }, (_, i) => login(`spray-${i}-${systemIds.token(4)}`, wrong, addr)),
      )
      expect(new Set(statuses(rs))).toEqual(new Set([401]))
      const u = await newUser()
      const refused = await login(u.username, u.password, addr)
      expect(refused.statusCode).toBe(429)
      expect(refused.headers['retry-after']).toBe('30')
      expect(refused.json()).toMatchObject({ code: 'RATE_LIMITED', pointer: '' })
      expect((await login(u.username, u.password, '198.51.100.21')).statusCode).toBe(200)
      // The refused attempt did not count against the account.
      expect(await countRows(t.db, 'auth_throttle', 'key = $1', [`user:${u.username}`])).toBe(0)
    })

    it('does not count successful logins against the address', async () => {
      const u = await newUser()
      for (let i = 0; i < 55; i++) expect((await login(u.username, u.password, '198.51.100.30')).statusCode).toBe(200)
      const [row] = await t.db.query<{ attempts: number }>('select attempts from auth_throttle where key = $1', [
        addressKey('198.51.100.30'),
      ])
      expect(row?.attempts ?? 0).toBe(0)
    })

    it('shares the lock between processes: another app on the same database refuses too', async () => {
      const u = await newUser()
      const addr = '203.0.113.15'
      for (let i = 0; i < 5; i++) await login(u.username, wrong, addr)
      const other = await buildApp(loadConfig({}, { logLevel: 'silent', cebMatching: false }), {
        db: t.db,
        clock: t.clock,
        ids: systemIds,
      })
      try {
        const res = await other.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: u.username, password: u.password },
          remoteAddress: addr,
        })
        expect(res.statusCode).toBe(429)
        expect(res.json().code).toBe('RATE_LIMITED')
      } finally {
        await other.close()
      }
    })

    it('lifts a lock when an admin sets the password again (kouan user add)', async () => {
      const u = await newUser()
      for (let i = 0; i < 5; i++) await login(u.username, wrong, '203.0.113.16')
      expect((await login(u.username, u.password, '203.0.113.16')).statusCode).toBe(429)
      await createUser(t.db, t.clock, systemIds, { username: u.username, password: u.password, role: 'officer' })
      expect((await login(u.username, u.password, '203.0.113.16')).statusCode).toBe(200)
    })

    it('keys IPv6 clients by their /64 and IPv4-mapped addresses as IPv4', () => {
      expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'))
      expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'))
      expect(addressKey('::ffff:10.0.0.1')).toBe(addressKey('10.0.0.1'))
      expect(addressKey('10.0.0.1')).not.toBe(addressKey('10.0.0.2'))
    })

    it('sweeps counters quiet for an hour and no longer locked', async () => {
      const u = await newUser()
      for (let i = 0; i < 3; i++) await login(u.username, wrong, '203.0.113.17')
      const key = `user:${u.username}`
      await sweepAuth({ db: t.db, clock: t.clock })
      expect(await countRows(t.db, 'auth_throttle', 'key = $1', [key])).toBe(1)
      t.clock.advance(3600_000 + 1000)
      await sweepAuth({ db: t.db, clock: t.clock })
      expect(await countRows(t.db, 'auth_throttle', 'key = $1', [key])).toBe(0)
    })
  })

  describe('/api/v1/auth/me', () => {
    it('names an officer', async () => {
      expect((await me(officer.headers)).json()).toEqual({
        kind: 'user',
        id: officer.id,
        role: 'officer',
        name: officer.username,
      })
    })

    it('names a card holder with the card and its enterprise', async () => {
      expect((await me(op.headers)).json()).toEqual({
        kind: 'card',
        id: op.cardId,
        role: 'operator',
        name: 'Li Lei',
        enterpriseId: op.enterprise.id,
        cardNo: op.cardNo,
      })
    })

    it('requires a token: 401 AUTH_REQUIRED at /headers/authorization', async () => {
      const res = await me()
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'AUTH_REQUIRED', pointer: '/headers/authorization' })
    })

    it('refuses a header that is not a bearer token', async () => {
      const token = officer.headers.authorization.slice('Bearer '.length)
      for (const authorization of [`Basic ${token}`, token, 'Bearer', `Bearer ${token} extra`]) {
        const res = await me({ authorization })
        expect(res.statusCode).toBe(401)
        expect(res.json().code).toBe('AUTH_INVALID_TOKEN')
      }
    })
  })

  describe('forged and expired tokens', () => {
    const tokenOf = (h: Headers) => h.authorization.slice('Bearer '.length)

    it('refuses a token with one character of its HMAC changed: 401 AUTH_INVALID_TOKEN', async () => {
      const token = tokenOf(officer.headers)
      for (const i of [0, 10, 21, 41]) {
        const res = await me(bearer(alterMac(token, i, 1)))
        expect(res.statusCode).toBe(401)
        expect(res.json()).toMatchObject({ code: 'AUTH_INVALID_TOKEN', pointer: '/headers/authorization' })
      }
    })

    it('refuses a token whose payload was changed under the old HMAC', async () => {
      const [v, payload, mac] = tokenOf(officer.headers).split('.') as [string, string, string]
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
      const longer = Buffer.from(JSON.stringify({ ...claims, e: claims.e + 365 * 86400 })).toString('base64url')
      const asCard = Buffer.from(JSON.stringify({ ...claims, k: 'c', s: op.cardId })).toString('base64url')
      for (const forged of [
        `${v}.${longer}.${mac}`,
        `${v}.${asCard}.${mac}`,
        `v2.${payload}.${mac}`,
        `${v}.${payload}.`,
      ]) {
        const res = await me(bearer(forged))
        expect(res.statusCode).toBe(401)
        expect(res.json().code).toBe('AUTH_INVALID_TOKEN')
      }
    })

    it('refuses a well-formed token made with another secret', async () => {
      const forged = issueToken(
        'not-the-installation-secret',
        'user',
        officer.id,
        new Date(t.clock.now().getTime() + EIGHT_HOURS),
      )
      const res = await me(bearer(forged))
      expect(res.statusCode).toBe(401)
      expect(res.json().code).toBe('AUTH_INVALID_TOKEN')
    })

    it('refuses a token whose HMAC differs only in the unused bits of its last character', async () => {
      const res = await me(bearer(alterMac(tokenOf(officer.headers), 42, 1)))
      expect(res.statusCode).toBe(401)
    })

    it('accepts a session up to its expiry and refuses it 1 second after 8 hours: 401 AUTH_INVALID_TOKEN', async () => {
      t.clock.set(T0)
      const u = await newUser()
      const { token } = (await login(u.username, u.password)).json()
      const card = await buildOperator(t, officer, op.enterprise)
      try {
        t.clock.advance(EIGHT_HOURS)
        expect((await me(bearer(token))).statusCode).toBe(200)
        expect((await me(card.headers)).statusCode).toBe(200)
        t.clock.advance(1000)
        for (const headers of [bearer(token), card.headers]) {
          const res = await me(headers)
          expect(res.statusCode).toBe(401)
          expect(res.json()).toMatchObject({ code: 'AUTH_INVALID_TOKEN', pointer: '/headers/authorization' })
        }
      } finally {
        t.clock.set(T0)
      }
    })
  })
})
