import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../test/app.js'
import { countRows } from '../../test/db.js'
import { createUser } from '../modules/auth/service.js'
import { systemIds } from '../shared/clock.js'
import { verifyAudit } from '../shared/audit.js'
import { runCebSimulation } from './ceb.js'
import { ed25519 } from '../shared/signing.js'
import { withUsccCheck } from '../shared/uscc.js'

describe('e-commerce simulation against a live server', () => {
  const t = useTestApp({ cebMatching: true })
  let baseUrl: string
  const admin = { username: 'ceb-sim-admin', password: 'ceb-sim-admin-secret' }
  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const addr = t.app.server.address()
    if (!addr || typeof addr === 'string') throw new Error('no address')
    baseUrl = `http://127.0.0.1:${addr.port}`
    await createUser(t.db, t.clock, systemIds, { ...admin, role: 'admin' })
  })

  it('registers the five parties and sends whole tickets that all get a verdict, planted defects returned', async () => {
    const logs: string[] = []
    const stats = await runCebSimulation({
      baseUrl,
      officer: admin,
      rate: 15,
      durationSec: 2,
      defectRate: 0.3,
      seed: 3,
      log: (m) => logs.push(m),
      date: () => '2026-05-11',
    })
    expect(stats).toMatchObject({ tickets: 30, messages: 8, refusedMessages: 0, httpErrors: 0 })
    expect(stats.plantedDefects).toBeGreaterThan(0)
    expect(await countRows(t.db, 'enterprises')).toBe(5)
    expect(await countRows(t.db, 'ceb_documents')).toBe(4 * stats.tickets)
    // Matching is inline: every ticket has its verdict when the last message is acknowledged.
    expect(await countRows(t.db, 'ceb_tickets', 'complete')).toBe(stats.tickets)
    expect(await countRows(t.db, 'ceb_tickets', 'return_status = 100')).toBeGreaterThanOrEqual(stats.plantedDefects)
    expect(await countRows(t.db, 'ceb_tickets', 'return_status in (800, 500, 300)')).toBeGreaterThan(0)
    expect((await verifyAudit(t.db)).problems).toEqual([])
    expect(logs[0]).toMatch(/^CEB simulator: 5 parties registered/)
  })

  it('lets an enterprise with a card act as the customs broker: it sends the inventory lists and is a party to every ticket', async () => {
    const keys = ed25519.generate()
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: admin,
    })
    const auth = { authorization: `Bearer ${login.json().token}` }
    const ent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/enterprises',
      headers: auth,
      payload: {
        uscc: withUsccCheck('91440300MA5DEM001'),
        customsCode: '4403DEM001',
        name: '示范报关企业',
        registeredDistrict: '5300',
      },
    })
    expect(ent.statusCode).toBe(201)
    const card = await t.app.inject({
      method: 'POST',
      url: '/api/v1/cards',
      headers: auth,
      payload: { enterpriseId: ent.json().id, operatorName: 'Demo operator', publicKey: keys.publicKey },
    })
    expect(card.statusCode).toBe(201)
    const enterprises = await countRows(t.db, 'enterprises')
    const stats = await runCebSimulation({
      baseUrl,
      officer: admin,
      rate: 5,
      durationSec: 2,
      defectRate: 0,
      seed: 4,
      log: () => {},
      date: () => '2026-05-11',
      agent: Promise.resolve({
        customsCode: '4403DEM001',
        name: '示范报关企业',
        cardNo: card.json().cardNo,
        privateKey: keys.privateKey,
      }),
    })
    expect(stats).toMatchObject({ tickets: 10, refusedMessages: 0, httpErrors: 0 })
    // Four parties registered, not five: the broker is the enterprise given.
    expect(await countRows(t.db, 'enterprises')).toBe(enterprises + 4)
    const sent = `select count(*)::int as n from ceb_documents where type = 'CEB621' and card_no = $1`
    expect((await t.db.query<{ n: number }>(sent, [card.json().cardNo]))[0]!.n).toBe(stats.tickets)
  })
})
