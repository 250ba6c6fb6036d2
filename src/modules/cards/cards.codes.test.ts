import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import { buildEnterprise, loginUser, type Headers, type TestEnterprise } from '../../../test/factories.js'
import { ed25519 } from '../../shared/signing.js'

/** The port-card error codes that no other test asserted (issue 10). */
describe('port card error codes', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  let enterprise: TestEnterprise
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    enterprise = await buildEnterprise(t, officer)
  })
  const issue = (kind: 'LEGAL' | 'OPERATOR') =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/cards',
      headers: officer.headers,
      payload: {
        enterpriseId: enterprise.id,
        operatorName: 'Wang Fang',
        kind,
        publicKey: ed25519.generate().publicKey,
      },
    })

  it('CARD_LEGAL_EXISTS: a second active legal-entity card for one enterprise, 409 at /body/kind, nothing issued', async () => {
    expect((await issue('LEGAL')).statusCode).toBe(201)
    const before = await countRows(t.db, 'port_cards', 'enterprise_id = $1', [enterprise.id])
    const res = await issue('LEGAL')
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'CARD_LEGAL_EXISTS', pointer: '/body/kind' })
    expect(await countRows(t.db, 'port_cards', 'enterprise_id = $1', [enterprise.id])).toBe(before)
    // Operator cards are not limited.
    expect((await issue('OPERATOR')).statusCode).toBe(201)
  })

  it('CARD_NOT_FOUND: reading, replacing or revoking an unknown card (officer), 404 at /params/id, nothing written', async () => {
    const id = randomUUID()
    const audit = await countRows(t.db, 'audit_log')
    for (const [method, url, payload] of [
      ['GET', `/api/v1/cards/${id}`, undefined],
      ['POST', `/api/v1/cards/${id}/replace`, { publicKey: ed25519.generate().publicKey, reason: 'LOST' }],
      ['POST', `/api/v1/cards/${id}/revoke`, { reason: 'LOST' }],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: officer.headers, ...(payload ? { payload } : {}) })
      expect(res.statusCode, url).toBe(404)
      expect(res.json()).toMatchObject({ code: 'CARD_NOT_FOUND', pointer: '/params/id' })
    }
    expect(await countRows(t.db, 'audit_log')).toBe(audit)
  })
})
