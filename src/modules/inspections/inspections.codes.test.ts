import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import { loginUser, type Headers } from '../../../test/factories.js'

/** The inspection error code that no other test asserted (issue 10). */
describe('inspection error codes', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
  })

  it('INSPECTION_NOT_FOUND: reading, starting or recording an unknown inspection, 404 at /params/id, nothing written', async () => {
    const id = randomUUID()
    const audit = await countRows(t.db, 'audit_log')
    for (const [method, url, payload] of [
      ['GET', `/api/v1/inspections/${id}`, undefined],
      ['POST', `/api/v1/inspections/${id}/start`, undefined],
      ['POST', `/api/v1/inspections/${id}/result`, { result: 'COMPLIANT', findings: [] }],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: officer.headers, ...(payload ? { payload } : {}) })
      expect(res.statusCode, url).toBe(404)
      expect(res.json()).toMatchObject({ code: 'INSPECTION_NOT_FOUND', pointer: '/params/id' })
    }
    expect(await countRows(t.db, 'audit_log')).toBe(audit)
  })
})
