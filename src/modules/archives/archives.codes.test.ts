import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import { loginUser, type Headers } from '../../../test/factories.js'
import { KouanError } from '../../errors.js'
import type { Actor } from '../auth/service.js'
import { getArchive, listArchives } from './service.js'

/** The archive error codes that no other test asserted (issue 10). */
describe('archive error codes', () => {
  const t = useTestApp()
  let admin: { headers: Headers }
  beforeAll(async () => {
    admin = await loginUser(t, 'admin')
  })

  it("ARCHIVE_RETENTION_BAD_VALUE: a TRADE_MODE value that is not 4 digits or a CUT_MODE value that is not 3, 422 at the rule's value, table unchanged", async () => {
    const rules = (
      await t.app.inject({ method: 'GET', url: '/api/v1/archives/retention-rules', headers: admin.headers })
    ).json().items as object[]
    const audit = await countRows(t.db, 'audit_log', "entity_type = 'archive_retention_rules'")
    for (const bad of [
      { kind: 'TRADE_MODE', value: '01', years: 5, basis: 'too short' },
      { kind: 'CUT_MODE', value: '1010', years: 5, basis: 'too long' },
    ]) {
      const res = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/archives/retention-rules',
        headers: admin.headers,
        payload: { items: [...rules, bad] },
      })
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({
        code: 'ARCHIVE_RETENTION_BAD_VALUE',
        pointer: `/body/items/${rules.length}/value`,
      })
    }
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/archives/retention-rules', headers: admin.headers })).json()
        .items,
    ).toEqual(rules)
    expect(await countRows(t.db, 'audit_log', "entity_type = 'archive_retention_rules'")).toBe(audit)
  })

  it('ARCHIVE_SELF_SERVICE_REFUSED: an operator whose enterprise is not on record is refused with 403', async () => {
    // Not reachable over HTTP: a card references its enterprise (foreign key) and enterprises are never deleted.
    // The service refuses rather than treat a missing enterprise as eligible.
    const actor: Actor = {
      kind: 'card',
      id: randomUUID(),
      role: 'operator',
      enterpriseId: randomUUID(),
      cardNo: 'EP0000000000ZZZZZZ',
      name: 'ghost',
    }
    for (const call of [
      () => listArchives(t.app.kouan, actor, { limit: 10, offset: 0 }),
      () => getArchive(t.app.kouan, actor, '530120261000000001'),
    ]) {
      const err = await call().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(KouanError)
      expect(err).toMatchObject({
        code: 'ARCHIVE_SELF_SERVICE_REFUSED',
        statusCode: 403,
        pointer: '/headers/authorization',
      })
    }
  })
})
