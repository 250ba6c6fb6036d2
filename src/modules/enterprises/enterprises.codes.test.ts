import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import { loginUser, randomCustomsCode, randomUscc, type Headers } from '../../../test/factories.js'
import { KouanError } from '../../errors.js'
import { systemIds } from '../../shared/clock.js'
import type { Actor } from '../auth/service.js'
import { registerEnterprise } from './service.js'

/** The enterprise error code that no other test asserted (issue 10). */
describe('enterprise error codes', () => {
  const t = useTestApp()
  let admin: { id: string; username: string; headers: Headers }
  beforeAll(async () => {
    admin = await loginUser(t, 'admin')
  })

  it('ENTERPRISE_USCC_LENGTH: a USCC that is not 18 characters, 422 at /body/uscc, nothing registered', async () => {
    const short = randomUscc().slice(0, 17)
    const input = {
      uscc: short,
      customsCode: randomCustomsCode(),
      name: 'Short Code Trading Co.',
      registeredDistrict: '5300',
    }
    // Over HTTP the schema (exactly 18 characters) answers first, at the same pointer.
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/enterprises',
      headers: admin.headers,
      payload: input,
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', pointer: '/body/uscc' })
    // The service checks on its own, for callers without the HTTP schema.
    const actor: Actor = { kind: 'user', id: admin.id, role: 'admin', name: admin.username }
    const err = await registerEnterprise({ db: t.db, clock: t.clock, ids: systemIds }, actor, input).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(KouanError)
    expect(err).toMatchObject({
      code: 'ENTERPRISE_USCC_LENGTH',
      statusCode: 422,
      pointer: '/body/uscc',
      message: 'uscc must be 18 characters',
    })
    expect(await countRows(t.db, 'enterprises', 'customs_code = $1', [input.customsCode])).toBe(0)
  })
})
