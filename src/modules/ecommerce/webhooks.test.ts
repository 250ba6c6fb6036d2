import { createHmac } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { buildCebParties, cebExample, loginUser, sendCeb, type CebParty } from '../../../test/factories.js'
import { matchQueued } from './service.js'
import { MAX_ATTEMPTS, deliverWebhooks } from './webhooks.js'

/** Receipts pushed to an enterprise's webhook: real HTTP on loopback, signed, retried with backoff. */
describe('CEB receipt webhooks', () => {
  const t = useTestApp()
  let parties: Record<string, CebParty>
  let server: Server
  let url = ''
  const calls: Array<{ body: string; signature: string }> = []
  let failNext = 1

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => { body += c })
      req.on('end', () => {
        calls.push({ body, signature: String(req.headers['x-kouan-signature']) })
        res.statusCode = failNext-- > 0 ? 500 : 204
        res.end()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const addr = server.address() as { port: number }
    url = `http://127.0.0.1:${addr.port}/receipts`
    parties = await buildCebParties(t, await loginUser(t, 'admin'))
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('pushes the verdict receipts to the sender, signed, and retries a failed call later', async () => {
    const agent = parties['4601000AGT']!
    const reg = await t.app.inject({ method: 'PUT', url: '/api/v1/ceb/webhook', headers: agent.headers, payload: { url } })
    expect(reg.statusCode).toBe(200)
    const { secret } = reg.json()
    for (const [code, n] of [['4601000EBC', 311], ['4601000PAY', 411], ['4601000LOG', 511], ['4601000AGT', 621]] as const) {
      expect((await sendCeb(t, parties[code]!, cebExample(n))).statusCode).toBe(200)
    }
    await matchQueued(t.app.kouan)
    expect(await deliverWebhooks(t.app.kouan)).toBe(1)
    expect(calls).toHaveLength(1)
    // Not due again until the backoff has passed.
    expect(await deliverWebhooks(t.app.kouan)).toBe(0)
    t.clock.advance(6000)
    expect(await deliverWebhooks(t.app.kouan)).toBe(1)
    expect(calls).toHaveLength(2)
    const { body, signature } = calls[1]!
    const [, ts, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature)!
    expect(createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')).toBe(mac)
    const payload = JSON.parse(body)
    expect(payload.orderNo).toBe('SO202508180001')
    expect(payload.receipts.map((r: { returnStatus: number }) => r.returnStatus)).toEqual([120, 399, 800])
    expect(payload.receipts.every((r: { type: string }) => r.type === 'CEB621')).toBe(true)
    const [row] = await t.db.query<{ attempts: number; delivered_at: Date | null }>('select attempts, delivered_at from ceb_webhook_deliveries')
    expect(row).toMatchObject({ attempts: 2, delivered_at: expect.any(Date) })
  })

  it('gives up after the last attempt', async () => {
    await t.db.query(`insert into ceb_webhook_deliveries (enterprise_id, payload, next_at, attempts) values ($1, '{}', $2, $3)`,
      [parties['4601000AGT']!.enterpriseId, t.clock.now().toISOString(), MAX_ATTEMPTS - 1])
    failNext = 1
    expect(await deliverWebhooks(t.app.kouan)).toBe(1)
    const [row] = await t.db.query<{ last_error: string; next_at: unknown }>(`select last_error, next_at::text from ceb_webhook_deliveries where attempts = $1`, [MAX_ATTEMPTS])
    expect(row).toEqual({ last_error: 'gave up: HTTP 500', next_at: 'infinity' })
  })
})
