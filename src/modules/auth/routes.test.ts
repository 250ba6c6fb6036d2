import { beforeAll, describe, expect, it } from 'vitest'
import { T0, useTestApp } from '../../../test/app.js'
import { buildEnterprise, buildOperator, loginUser, type Headers, type TestOperator } from '../../../test/factories.js'
import { createUser, issueToken } from './service.js'
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
  const login = (username: string, password: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } })
  const me = (headers?: Record<string, string>) => t.app.inject({ method: 'GET', url: '/api/v1/auth/me', ...(headers ? { headers } : {}) })
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
      expect(s).toMatchObject({ role: 'admin', expiresAt: new Date(t.clock.now().getTime() + EIGHT_HOURS).toISOString() })
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

  describe('/api/v1/auth/me', () => {
    it('names an officer', async () => {
      expect((await me(officer.headers)).json()).toEqual({ kind: 'user', id: officer.id, role: 'officer', name: officer.username })
    })

    it('names a card holder with the card and its enterprise', async () => {
      expect((await me(op.headers)).json()).toEqual({ kind: 'card', id: op.cardId, role: 'operator', name: 'Li Lei', enterpriseId: op.enterprise.id, cardNo: op.cardNo })
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
      for (const forged of [`${v}.${longer}.${mac}`, `${v}.${asCard}.${mac}`, `v2.${payload}.${mac}`, `${v}.${payload}.`]) {
        const res = await me(bearer(forged))
        expect(res.statusCode).toBe(401)
        expect(res.json().code).toBe('AUTH_INVALID_TOKEN')
      }
    })

    it('refuses a well-formed token made with another secret', async () => {
      const forged = issueToken('not-the-installation-secret', 'user', officer.id, new Date(t.clock.now().getTime() + EIGHT_HOURS))
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
