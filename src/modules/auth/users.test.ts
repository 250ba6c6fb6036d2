import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { auditRows, loginUser, type Headers } from '../../../test/factories.js'
import { verifyAudit } from '../../shared/audit.js'
import { systemIds } from '../../shared/clock.js'

describe('user accounts (/api/v1/users, admins)', () => {
  const t = useTestApp()
  let admin: { id: string; username: string; headers: Headers }
  let officer: { id: string; username: string; headers: Headers }
  beforeAll(async () => {
    admin = await loginUser(t, 'admin')
    officer = await loginUser(t, 'officer')
  })
  const req = (method: 'GET' | 'POST', url: string, headers?: Headers, payload?: object) =>
    t.app.inject({ method, url, ...(headers ? { headers } : {}), ...(payload ? { payload } : {}) })
  const login = (username: string, password: string) =>
    req('POST', '/api/v1/auth/login', undefined, { username, password })
  const me = (headers: Headers) => req('GET', '/api/v1/auth/me', headers)
  const bearer = (token: string): Headers => ({ authorization: `Bearer ${token}` })
  const name = () =>
    `u${systemIds
      .token(6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`

  it('creates an officer who can then log in; audited, never a password hash in the answer', async () => {
    const username = name()
    const res = await req('POST', '/api/v1/users', admin.headers, {
      username,
      displayName: '张三',
      role: 'officer',
      password: 'correct horse',
    })
    expect(res.statusCode).toBe(201)
    const body = res.json()
    expect(body).toEqual({
      user: {
        id: expect.any(String),
        username,
        displayName: '张三',
        role: 'officer',
        createdAt: t.clock.now().toISOString(),
        disabledAt: null,
      },
    })
    const s = await login(username, 'correct horse')
    expect(s.statusCode).toBe(200)
    expect((await me(bearer(s.json().token))).json()).toMatchObject({ kind: 'user', role: 'officer', name: username })
    expect(await auditRows(t, 'user', body.user.id)).toEqual([
      expect.objectContaining({
        action: 'USER_CREATED',
        actor: `user:${admin.username}`,
        data: { username, displayName: '张三', role: 'officer' },
      }),
    ])
  })

  it('generates a password when none is given and returns it once', async () => {
    const username = name()
    const res = await req('POST', '/api/v1/users', admin.headers, { username, role: 'admin' })
    expect(res.statusCode).toBe(201)
    const { user, password } = res.json()
    expect(user).toMatchObject({ username, displayName: username, role: 'admin' })
    expect(password).toMatch(/^[A-Za-z0-9_-]{16}$/)
    expect((await login(username, password)).json()).toMatchObject({ role: 'admin' })
    const list = (await req('GET', `/api/v1/users?q=${username}`, admin.headers)).json()
    expect(list.items).toEqual([user])
    expect(JSON.stringify(list)).not.toMatch(/scrypt|password/)
  })

  it('refuses a username that is taken (409 USER_EXISTS) without touching the account', async () => {
    const res = await req('POST', '/api/v1/users', admin.headers, {
      username: officer.username,
      role: 'admin',
      password: 'another password',
    })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'USER_EXISTS', pointer: '/body/username' })
    expect((await me(officer.headers)).json()).toMatchObject({ role: 'officer' })
  })

  it.each([
    [{ username: 'has space', role: 'officer', password: 'long enough' }, '/body/username'],
    [{ username: 'short-pw', role: 'officer', password: 'short' }, '/body/password'],
    [{ username: 'bad-role', role: 'operator', password: 'long enough' }, '/body/role'],
    [{ username: 'blank-name', role: 'officer', password: 'long enough', displayName: '   ' }, '/body/displayName'],
  ])('refuses %j with 400 at the field', async (payload, pointer) => {
    const res = await req('POST', '/api/v1/users', admin.headers, payload)
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', pointer })
  })

  it('lists accounts by username, filtered by status, paged with a total', async () => {
    const all = (await req('GET', '/api/v1/users?limit=500', admin.headers)).json()
    expect(all.total).toBe(all.items.length)
    const names = all.items.map((u: { username: string }) => u.username)
    expect(names).toEqual([...names].sort())
    const page = (await req('GET', '/api/v1/users?limit=1&offset=1', admin.headers)).json()
    expect(page).toEqual({ items: [all.items[1]], total: all.total })
    const active = (await req('GET', '/api/v1/users?status=active&limit=500', admin.headers)).json()
    expect(active.items.every((u: { disabledAt: string | null }) => u.disabledAt === null)).toBe(true)
  })

  it('disables an account: its sessions end at once, login fails; enabling lets it log in again, old sessions stay ended', async () => {
    const u = await loginUser(t, 'officer')
    const password = `pw-${systemIds.token(8)}`
    expect((await req('POST', `/api/v1/users/${u.id}/password`, admin.headers, { password })).statusCode).toBe(200)
    t.clock.advance(1000)
    const s = (await login(u.username, password)).json()
    const res = await req('POST', `/api/v1/users/${u.id}/disable`, admin.headers)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id: u.id, disabledAt: t.clock.now().toISOString() })
    expect((await me(bearer(s.token))).json()).toMatchObject({ code: 'AUTH_ACCOUNT_DISABLED' })
    expect((await login(u.username, password)).json()).toMatchObject({ code: 'AUTH_BAD_CREDENTIALS' })
    // Disabling again changes nothing and records nothing.
    expect((await req('POST', `/api/v1/users/${u.id}/disable`, admin.headers)).json().disabledAt).toBe(
      t.clock.now().toISOString(),
    )

    t.clock.advance(1000)
    const en = await req('POST', `/api/v1/users/${u.id}/enable`, admin.headers)
    expect(en.json()).toMatchObject({ id: u.id, disabledAt: null })
    const old = await me(bearer(s.token))
    expect(old.statusCode).toBe(401)
    expect(old.json()).toMatchObject({ code: 'AUTH_SESSION_ENDED', pointer: '/headers/authorization' })
    expect((await me(u.headers)).json()).toMatchObject({ code: 'AUTH_SESSION_ENDED' })
    const again = await login(u.username, password)
    expect(again.statusCode).toBe(200)
    expect((await me(bearer(again.json().token))).statusCode).toBe(200)
    expect((await auditRows(t, 'user', u.id)).map((a) => [a.action, a.actor])).toEqual([
      ['USER_PASSWORD_SET', `user:${admin.username}`],
      ['USER_DISABLED', `user:${admin.username}`],
      ['USER_ENABLED', `user:${admin.username}`],
    ])
  })

  it('refuses an admin disabling their own account (409 USER_SELF_DISABLE)', async () => {
    const res = await req('POST', `/api/v1/users/${admin.id}/disable`, admin.headers)
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'USER_SELF_DISABLE', pointer: '/params/id' })
    expect((await me(admin.headers)).statusCode).toBe(200)
  })

  it('sets a password: the account’s sessions end and a login lock is lifted', async () => {
    const u = await loginUser(t, 'officer')
    for (let i = 0; i < 6; i++) await login(u.username, 'wrong password')
    expect((await login(u.username, 'wrong password')).statusCode).toBe(429)
    t.clock.advance(1000)
    const res = await req('POST', `/api/v1/users/${u.id}/password`, admin.headers, { password: 'brand new secret' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id: u.id, username: u.username })
    expect((await me(u.headers)).json()).toMatchObject({ code: 'AUTH_SESSION_ENDED' })
    t.clock.advance(1000)
    expect((await login(u.username, 'brand new secret')).statusCode).toBe(200)
    expect(
      (await req('POST', `/api/v1/users/${u.id}/password`, admin.headers, { password: 'short' })).json(),
    ).toMatchObject({ code: 'VALIDATION_FAILED', pointer: '/body/password' })
  })

  it('answers 404 USER_NOT_FOUND for an unknown account', async () => {
    const id = systemIds.uuid()
    for (const url of [`/api/v1/users/${id}/disable`, `/api/v1/users/${id}/enable`]) {
      const res = await req('POST', url, admin.headers)
      expect(res.statusCode).toBe(404)
      expect(res.json()).toMatchObject({ code: 'USER_NOT_FOUND', pointer: '/params/id' })
    }
    const res = await req('POST', `/api/v1/users/${id}/password`, admin.headers, { password: 'long enough' })
    expect(res.json()).toMatchObject({ code: 'USER_NOT_FOUND' })
  })

  it('is for admins only', async () => {
    expect((await req('GET', '/api/v1/users', officer.headers)).statusCode).toBe(403)
    const res = await req('POST', '/api/v1/users', officer.headers, { username: name(), role: 'admin' })
    expect(res.statusCode).toBe(403)
    expect((await req('POST', `/api/v1/users/${admin.id}/disable`, officer.headers)).statusCode).toBe(403)
  })

  it('leaves a verifiable audit chain', async () => {
    expect((await verifyAudit(t.db)).problems).toEqual([])
  })
})
