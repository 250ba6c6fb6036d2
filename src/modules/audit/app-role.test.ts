import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDb } from '../../../test/db.js'
import { randomCustomsCode, randomUscc } from '../../../test/factories.js'
import { buildApp } from '../../app.js'
import { loadConfig } from '../../config.js'
import { openPostgres, type Db } from '../../db/index.js'
import { migrate } from '../../db/migrate.js'
import { appendAudit } from '../../shared/audit.js'
import { fixedClock, systemIds } from '../../shared/clock.js'
import { createUser } from '../auth/service.js'
import { grantAppRole, takeCheckpoints, verifyLog } from './service.js'

const onPostgres = !!process.env.DATABASE_URL
const T0 = '2026-05-11T01:00:00.000Z'

/**
 * PostgreSQL with the application connected as a role that is not the owner (`kouan db grant-app-role`): what it
 * may still do (everything the platform needs) and what it no longer can (rewrite the audit log or its protection).
 */
describe.skipIf(!onPostgres)('the application role on PostgreSQL', () => {
  const role = `kouan_app_${process.pid}_${Date.now() % 1_000_000}`
  let owner: Db
  let app: Db
  let drop: () => Promise<void>

  beforeAll(async () => {
    const fresh = await freshDb()
    owner = fresh.db
    drop = fresh.drop
    await owner.query(`create role ${role} login`)
    expect(await grantAppRole(owner, role)).toEqual({ role, owner: 'postgres' })
    const u = new URL(fresh.url!)
    u.username = role
    u.password = ''
    app = openPostgres(u.toString(), 3)
  })

  afterAll(async () => {
    await app?.close()
    await drop?.()
    const admin = openPostgres(process.env.DATABASE_URL!, 1)
    await admin.query(`drop role if exists ${role}`)
    await admin.close()
  })

  it("runs the platform: start-up, requests, audit appends, checkpoints, partitions, the archive purge's partition drop", async () => {
    expect(await migrate(app)).toEqual([])
    await app.query(`select ensure_year_partitions('audit_log', 2042, 2042)`)
    const [part] = await app.query<{ owner: string }>(
      `select pg_get_userbyid(relowner) as owner from pg_class where relname = 'audit_log_2042'`,
    )
    expect(part!.owner).toBe('postgres')
    expect(
      (await app.query<{ dropped: boolean }>(`select drop_empty_archive_partition('archives_2024') as dropped`))[0]!
        .dropped,
    ).toBe(true)

    const clock = fixedClock(T0)
    const server = await buildApp(loadConfig({}, { logLevel: 'silent', cebMatching: false }), {
      db: app,
      clock,
      ids: systemIds,
    })
    try {
      await createUser(app, clock, systemIds, { username: 'role-admin', password: 'role-admin-pw', role: 'admin' })
      const login = await server.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'role-admin', password: 'role-admin-pw' },
      })
      expect(login.statusCode).toBe(200)
      const headers = { authorization: `Bearer ${login.json().token}` }
      const ent = await server.inject({
        method: 'POST',
        url: '/api/v1/enterprises',
        headers,
        payload: {
          uscc: randomUscc(),
          customsCode: randomCustomsCode(),
          name: 'Role Test Co.',
          registeredDistrict: '5300',
        },
      })
      expect(ent.statusCode).toBe(201)
      await app.transaction(async (tx) => {
        appendAudit(tx, {
          at: clock.now(),
          actor: 'user:tester',
          action: 'TESTED',
          entityType: 'test',
          entityId: 'x',
          data: {},
        })
      })
      expect((await takeCheckpoints(server.kouan)).written).toBeGreaterThan(0)
      expect((await server.inject({ method: 'GET', url: '/api/v1/audit/checkpoints', headers })).statusCode).toBe(200)
      expect(await verifyLog(app)).toMatchObject({ ok: true, problems: [], triggers: [] })
    } finally {
      await server.close()
    }
  })

  it('cannot change, remove or truncate audit rows, nor drop, disable or replace their protection', async () => {
    const refusals = [
      `update audit_log set actor = 'x'`,
      'delete from audit_log',
      'truncate audit_log',
      'truncate audit_log_2026',
      'delete from audit_log_2026',
      'alter table audit_log disable trigger audit_log_append_only',
      'alter table audit_log disable trigger all',
      'alter table audit_log_2026 disable trigger all',
      'drop trigger audit_log_append_only on audit_log',
      'drop table audit_log_2026',
      'alter table audit_log detach partition audit_log_2026',
      'set session_replication_role = replica',
      `create or replace function audit_refuse_change() returns trigger language plpgsql as $$ begin return new; end $$`,
      `update audit_checkpoints set hash = 'x'`,
      'delete from audit_checkpoints',
      `update audit_checkpoint_keys set public_key = 'x'`,
      'truncate declarations',
      `select kouan_grant_app_role('${role}')`,
    ]
    for (const sql of refusals) {
      const err = await app.query(sql).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message: string },
      )
      expect(err, sql).toBeDefined()
      expect(err!.code, `${sql}: ${err!.message}`).toBe('42501')
    }
    expect((await verifyLog(owner)).triggers).toEqual([])
  })

  it("is refused when it would hold the owner's rights; new tables of later migrations are granted to it", async () => {
    await expect(grantAppRole(owner, 'postgres')).rejects.toThrow("would hold the owner's rights")
    await expect(grantAppRole(owner, `${role}_missing`)).rejects.toThrow('does not exist')
    await owner.query('create table audit_role_probe (x int)')
    await expect(app.query('insert into audit_role_probe values (1)')).rejects.toMatchObject({ code: '42501' })
    await owner.query('select kouan_regrant_app_roles()')
    await app.query('insert into audit_role_probe values (1)')
    expect(await app.query('select x from audit_role_probe')).toEqual([{ x: 1 }])
  })
})
