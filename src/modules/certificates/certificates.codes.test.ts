import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows, untilSomeoneWaitsOnALock } from '../../../test/db.js'
import {
  CHICKEN_FEET,
  buildEnterprise,
  buildOperator,
  loginUser,
  submitDeclaration,
  type Headers,
} from '../../../test/factories.js'
import { ed25519, keyId } from '../../shared/signing.js'

const onPostgres = !!process.env.DATABASE_URL

/** The certificate error codes that no other test asserted (issue 10). */
describe('certificate error codes', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  let admin: { headers: Headers }
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    admin = await loginUser(t, 'admin')
  })
  const issue = (declarationId: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/certificates', headers: officer.headers, payload: { declarationId } })

  it('DECLARATION_NOT_FOUND: certifying a declaration that does not exist, 404 at /body/declarationId', async () => {
    const res = await issue(randomUUID())
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ code: 'DECLARATION_NOT_FOUND', pointer: '/body/declarationId' })
  })

  it('CERTIFICATE_DECLARATION_NOT_RELEASED: certifying quarantine goods still held for review, 409 at /body/declarationId, nothing issued', async () => {
    const held = await buildOperator(
      t,
      officer,
      await buildEnterprise(t, officer, { creditLevel: 'SERIOUSLY_DISHONEST' }),
    )
    const d = await submitDeclaration(t, held, { items: [CHICKEN_FEET], tradeCountry: 'RUS' })
    expect(d.state).toBe('SUBMITTED')
    const res = await issue(d.id)
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'CERTIFICATE_DECLARATION_NOT_RELEASED', pointer: '/body/declarationId' })
    expect(await countRows(t.db, 'certificates', 'declaration_id = $1', [d.id])).toBe(0)
  })

  it('CERTIFICATE_BAD_HS_RANGE: a range whose ends differ in length or run backwards, 422 at its hsTo, table unchanged', async () => {
    const table = (
      await t.app.inject({ method: 'GET', url: '/api/v1/certificates/quarantine-ranges', headers: admin.headers })
    ).json().items as object[]
    for (const [hsFrom, hsTo] of [
      ['0207', '02071'],
      ['0210', '0201'],
    ]) {
      const items = [...table, { hsFrom, hsTo, category: 'FOOD', description: 'bad range' }]
      const res = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/certificates/quarantine-ranges',
        headers: admin.headers,
        payload: { items },
      })
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({
        code: 'CERTIFICATE_BAD_HS_RANGE',
        pointer: `/body/items/${table.length}/hsTo`,
      })
    }
    expect(
      (
        await t.app.inject({ method: 'GET', url: '/api/v1/certificates/quarantine-ranges', headers: admin.headers })
      ).json().items,
    ).toEqual(table)
  })

  // PGlite runs one transaction at a time, so two rotations never overlap there. On PostgreSQL they can when no
  // key is active (nothing for `select … for update` to lock): the later one's insert then conflicts.
  it.skipIf(!onPostgres)(
    'CERTIFICATE_KEY_ROTATION_RACE: a rotation whose new key collides with one activated meanwhile, 409, nothing half-done',
    async () => {
      await t.db.query(`update certificate_keys set status = 'RETIRED', retired_at = now() where status = 'ACTIVE'`)
      const k = ed25519.generate()
      const theirs = keyId(k.publicKey)
      let commit!: () => void
      const gate = new Promise<void>((resolve) => {
        commit = resolve
      })
      let inserted!: () => void
      const begun = new Promise<void>((resolve) => {
        inserted = resolve
      })
      // Another rotation, caught between its insert and its commit.
      const other = t.db.transaction(async (tx) => {
        await tx.query(
          `insert into certificate_keys (kid, alg, public_key, private_key, status, created_by, activated_at) values ($1, 'Ed25519', $2, $3, 'ACTIVE', 'test', now())`,
          [theirs, k.publicKey, k.privateKey],
        )
        inserted()
        await gate
      })
      await begun
      const audit = await countRows(t.db, 'audit_log', "entity_type = 'certificate_key'")
      const rotation = t.app.inject({ method: 'POST', url: '/api/v1/certificates/keys/rotate', headers: admin.headers })
      // Wait (without a timed sleep as the synchronisation) until the rotation's insert waits on the other transaction.
      await untilSomeoneWaitsOnALock(t.db, 'the rotation waiting on the other transaction')
      commit()
      await other
      const res = await rotation
      expect(res.statusCode).toBe(409)
      expect(res.json()).toMatchObject({ code: 'CERTIFICATE_KEY_ROTATION_RACE', pointer: '' })
      const active = await t.db.query<{ kid: string }>(`select kid from certificate_keys where status = 'ACTIVE'`)
      expect(active).toEqual([{ kid: theirs }])
      expect(await countRows(t.db, 'audit_log', "entity_type = 'certificate_key'")).toBe(audit)
    },
  )
})
