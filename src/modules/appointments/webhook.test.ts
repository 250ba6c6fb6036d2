import { createHmac } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { buildEnterprise, buildOperator, loginUser, type TestOperator } from '../../../test/factories.js'
import { deliverWebhooks } from '../ecommerce/index.js'

/** Every change of a booking is pushed to its enterprise's webhook (the one it registered), signed. */
describe('appointment webhooks', () => {
  // The receiver listens on loopback: http and 127.0.0.1 allowed by configuration, as an internal deployment would.
  const t = useTestApp({ webhookAllowHttp: true, webhookAllow: '127.0.0.1/32' })
  let server: Server
  let op: TestOperator
  let officer: Awaited<ReturnType<typeof loginUser>>
  let secret = ''
  const calls: Array<{ body: string; signature: string }> = []

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => {
        body += c
      })
      req.on('end', () => {
        calls.push({ body, signature: String(req.headers['x-kouan-signature']) })
        res.statusCode = 204
        res.end()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const admin = await loginUser(t, 'admin')
    officer = await loginUser(t, 'officer')
    op = await buildOperator(t, officer, await buildEnterprise(t, admin))
    const reg = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/ceb/webhook',
      headers: op.headers,
      payload: { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook` },
    })
    expect(reg.statusCode).toBe(200)
    secret = reg.json().secret
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('booked, accepted, held: one signed call each, in order', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/appointments',
      headers: op.headers,
      payload: {
        clientRef: 'HOOK-1',
        enterpriseCode: op.enterprise.customsCode,
        contactName: 'Chen Jing',
        contactMobile: '13700000000',
        service: 'INSPECTION',
        category: 'EMERGENCY_RELIEF',
        site: '5302',
        iePort: '5302',
        ieFlag: 'I',
        goods: [{ name: 'medical masks', hsCode: '63079010' }],
        transportMode: '4',
        date: '2026-05-13',
        hour: 2,
        reason: 'relief supplies for the flood area',
      },
    })
    expect(res.statusCode, res.body).toBe(201)
    const a = res.json()
    const held = await t.app.inject({
      method: 'POST',
      url: `/api/v1/appointments/${a.id}/hold`,
      headers: officer.headers,
      payload: { reason: 'consignee licence to check' },
    })
    expect(held.statusCode).toBe(200)
    while ((await deliverWebhooks(t.app.kouan)) > 0);
    const payloads = calls.map((c) => {
      const [, ts, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(c.signature)!
      expect(createHmac('sha256', secret).update(`${ts}.${c.body}`).digest('hex')).toBe(mac)
      return JSON.parse(c.body)
    })
    expect(payloads.map((p) => [p.event, p.appointment.status])).toEqual([
      ['appointment.booked', 'PENDING'],
      ['appointment.accepted', 'ACCEPTED'],
      ['appointment.held', 'HELD'],
    ])
    expect(payloads[2]).toMatchObject({ reason: 'consignee licence to check', appointment: { number: a.number } })
  })
})
