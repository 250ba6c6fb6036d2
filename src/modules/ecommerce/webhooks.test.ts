import { createHmac } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import { buildCebParties, cebExample, loginUser, sendCeb, type CebParty } from '../../../test/factories.js'
import { matchQueued } from './service.js'
import { MAX_ATTEMPTS, deliverWebhooks, setWebhook, vetWebhookUrl } from './webhooks.js'

/** Receipts pushed to an enterprise's webhook: real HTTP on loopback, signed, retried with backoff. */
describe('CEB receipt webhooks', () => {
  // The receiver listens on loopback: http and 127.0.0.1 are allowed by configuration, as an internal deployment would.
  const t = useTestApp({ webhookAllowHttp: true, webhookAllow: '127.0.0.1/32' })
  let parties: Record<string, CebParty>
  let server: Server
  let url = ''
  const calls: Array<{ body: string; signature: string }> = []
  let failNext = 1

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => {
        body += c
      })
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
    const reg = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/ceb/webhook',
      headers: agent.headers,
      payload: { url },
    })
    expect(reg.statusCode).toBe(200)
    const { secret } = reg.json()
    for (const [code, n] of [
      ['4601000EBC', 311],
      ['4601000PAY', 411],
      ['4601000LOG', 511],
      ['4601000AGT', 621],
    ] as const) {
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
    const [row] = await t.db.query<{ attempts: number; delivered_at: Date | null }>(
      'select attempts, delivered_at from ceb_webhook_deliveries',
    )
    expect(row).toMatchObject({ attempts: 2, delivered_at: expect.any(Date) })
  })

  it('gives up after the last attempt', async () => {
    await t.db.query(
      `insert into ceb_webhook_deliveries (enterprise_id, payload, next_at, attempts) values ($1, '{}', $2, $3)`,
      [parties['4601000AGT']!.enterpriseId, t.clock.now().toISOString(), MAX_ATTEMPTS - 1],
    )
    failNext = 1
    expect(await deliverWebhooks(t.app.kouan)).toBe(1)
    const [row] = await t.db.query<{ last_error: string; next_at: unknown }>(
      `select last_error, next_at::text from ceb_webhook_deliveries where attempts = $1`,
      [MAX_ATTEMPTS],
    )
    expect(row).toEqual({ last_error: 'gave up: HTTP 500', next_at: 'infinity' })
  })

  it('connects to the address it checked (pinned), whatever the name resolves to, and never follows a redirect', async () => {
    const agent = parties['4601000AGT']!
    await t.db.query('delete from ceb_webhook_deliveries')
    // A name no DNS knows: the only way to the receiver is the vetted address the injected resolver gave.
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }]
    const hookUrl = url.replace('127.0.0.1', 'hooks.pinned.test')
    await setWebhook({ ...t.app.kouan, resolve }, agent.enterpriseId, hookUrl, 'card:test')
    const seen: string[] = []
    const other = createServer((req, res) => {
      seen.push(String(req.headers.host))
      res.statusCode = 204
      res.end()
    })
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r))
    const redirect = createServer((req, res) => {
      res.statusCode = 302
      res.setHeader('location', `http://127.0.0.1:${(other.address() as { port: number }).port}/`)
      res.end()
    })
    await new Promise<void>((r) => redirect.listen(0, '127.0.0.1', r))
    try {
      await t.db.query(
        `insert into ceb_webhook_deliveries (enterprise_id, payload, next_at) values ($1, '{"n":1}', $2)`,
        [agent.enterpriseId, t.clock.now().toISOString()],
      )
      const before = calls.length
      expect(await deliverWebhooks({ ...t.app.kouan, resolve })).toBe(1)
      expect(calls.slice(before).map((c) => c.body)).toEqual(['{"n":1}'])
      const [done] = await t.db.query<{ delivered_at: Date | null }>(
        `select delivered_at from ceb_webhook_deliveries where payload = '{"n":1}'`,
      )
      expect(done!.delivered_at).not.toBeNull()

      // A receiver answering with a redirect: a failure, and the redirect's target hears nothing.
      await setWebhook(
        { ...t.app.kouan, resolve },
        agent.enterpriseId,
        `http://127.0.0.1:${(redirect.address() as { port: number }).port}/`,
        'card:test',
      )
      await t.db.query(
        `insert into ceb_webhook_deliveries (enterprise_id, payload, next_at) values ($1, '{"n":2}', $2)`,
        [agent.enterpriseId, t.clock.now().toISOString()],
      )
      expect(await deliverWebhooks({ ...t.app.kouan, resolve })).toBe(1)
      const [row] = await t.db.query<{ last_error: string; delivered_at: Date | null }>(
        `select last_error, delivered_at from ceb_webhook_deliveries where payload = '{"n":2}'`,
      )
      expect(row).toEqual({ last_error: 'HTTP 302 (redirects are not followed)', delivered_at: null })
      expect(seen).toEqual([])
    } finally {
      await Promise.all([other, redirect].map((x) => new Promise<void>((r) => x.close(() => r()))))
    }
    expect(
      await countRows(t.db, 'audit_log', "action = 'CEB_WEBHOOK_SET' and entity_id = $1", [agent.enterpriseId]),
    ).toBe(3)
  })
})

// Finding 2 of issue 10: `PUT /api/v1/ceb/webhook` took any URL and the server then POSTed to http://127.0.0.1:…
describe('CEB webhook addresses (SSRF)', () => {
  const t = useTestApp() // the defaults: https only, no allow-list
  let agent: CebParty
  let server: Server
  let port = 0
  const hits: string[] = []

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '')
      res.statusCode = 204
      res.end()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as { port: number }).port
    agent = (await buildCebParties(t, await loginUser(t, 'admin')))['4601000AGT']!
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  const register = (url: string) =>
    t.app.inject({ method: 'PUT', url: '/api/v1/ceb/webhook', headers: agent.headers, payload: { url } })

  it('refuses loopback, private, link-local, metadata and plain-http URLs at registration, with a pointer to the URL', async () => {
    for (const url of [
      `http://127.0.0.1:${port}/receipts`,
      'https://127.0.0.1/x',
      'https://localhost/x',
      'https://10.1.2.3/x',
      'https://172.16.0.1/x',
      'https://192.168.1.10/x',
      'https://169.254.169.254/latest/meta-data/',
      'https://100.100.100.200/x',
      'https://0.0.0.0/x',
      'https://224.0.0.1/x',
      'https://[::1]/x',
      'https://[fe80::1]/x',
      'https://[fd00:ec2::254]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://[::ffff:a9fe:a9fe]/x',
      'https://2130706433/x',
      'https://0x7f.1/x',
      'https://user:pw@example.com/x',
      'http://example.com/x',
    ]) {
      const res = await register(url)
      expect({ url, status: res.statusCode }).toEqual({ url, status: 422 })
      expect(res.json()).toMatchObject({ code: 'WEBHOOK_URL_NOT_ALLOWED', pointer: '/body/url' })
    }
    expect(await countRows(t.db, 'ceb_webhooks')).toBe(0)
  })

  it('never connects to such an address at delivery, whatever was stored', async () => {
    // A webhook stored before the check existed (or by hand) still points at loopback.
    await t.db.query(`insert into ceb_webhooks (enterprise_id, url, secret, created_at) values ($1, $2, 's', $3)`, [
      agent.enterpriseId,
      `http://127.0.0.1:${port}/receipts`,
      t.clock.now().toISOString(),
    ])
    await t.db.query(`insert into ceb_webhook_deliveries (enterprise_id, payload, next_at) values ($1, '{}', $2)`, [
      agent.enterpriseId,
      t.clock.now().toISOString(),
    ])
    expect(await deliverWebhooks(t.app.kouan)).toBe(1)
    expect(hits).toEqual([])
    const [row] = await t.db.query<{ attempts: number; last_error: string; delivered_at: Date | null }>(
      'select attempts, last_error, delivered_at from ceb_webhook_deliveries',
    )
    expect(row).toMatchObject({ attempts: 1, delivered_at: null, last_error: expect.stringMatching(/not allowed/) })
  })

  it('checks the name again at every delivery: a host that resolved to a public address and now to loopback gets nothing', async () => {
    await t.db.query('delete from ceb_webhook_deliveries')
    let answer = '93.184.216.34'
    const resolve = async () => [{ address: answer, family: 4 }]
    const reg = await setWebhook(
      { ...t.app.kouan, resolve },
      agent.enterpriseId,
      `https://hooks.rebind.test:${port}/receipts`,
      'card:test',
    )
    expect(reg.url).toBe(`https://hooks.rebind.test:${port}/receipts`)
    answer = '127.0.0.1' // DNS rebinding
    await t.db.query(`insert into ceb_webhook_deliveries (enterprise_id, payload, next_at) values ($1, '{}', $2)`, [
      agent.enterpriseId,
      t.clock.now().toISOString(),
    ])
    expect(await deliverWebhooks({ ...t.app.kouan, resolve })).toBe(1)
    expect(hits).toEqual([])
    const [row] = await t.db.query<{ last_error: string }>('select last_error from ceb_webhook_deliveries')
    expect(row!.last_error).toBe(
      'address not allowed: host hooks.rebind.test resolves to 127.0.0.1 (loopback), an address webhooks are not allowed to reach',
    )
  })
})

describe('vetWebhookUrl', () => {
  const dns = (table: Record<string, string[]>) => async (host: string) => {
    const list = table[host]
    if (!list) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  const strict = { webhookAllowHttp: false, webhookAllow: '' }
  const reason = (url: string, policy = strict, resolve = dns({})) =>
    vetWebhookUrl(url, policy, resolve).then(
      () => 'allowed',
      (e: Error) => e.message,
    )

  it('allows https to public addresses and pins the first one', async () => {
    expect(
      await vetWebhookUrl(
        'https://hooks.example/x',
        strict,
        dns({ 'hooks.example': ['93.184.216.34', '2606:4700::1111'] }),
      ),
    ).toMatchObject({ address: '93.184.216.34', family: 4 })
    expect(await vetWebhookUrl('https://[2606:4700::1111]:8443/x', strict)).toMatchObject({
      address: '2606:4700::1111',
      family: 6,
    })
  })

  it('refuses a name with any non-public address, and IPv6 forms that carry an IPv4 address', async () => {
    expect(
      await reason('https://mixed.example/x', strict, dns({ 'mixed.example': ['93.184.216.34', '10.0.0.7'] })),
    ).toBe('host mixed.example resolves to 10.0.0.7 (private), an address webhooks are not allowed to reach')
    expect(await reason('https://[64:ff9b::a9fe:a9fe]/x')).toMatch(/\(rfc6052\)/) // NAT64 of 169.254.169.254
    expect(await reason('https://[2002:a9fe:a9fe::1]/x')).toMatch(/\(6to4\)/)
    expect(await reason('https://[2001::1]/x')).toMatch(/\(teredo\)/)
    expect(
      await reason(
        'https://metadata.google.internal/x',
        strict,
        dns({ 'metadata.google.internal': ['169.254.169.254'] }),
      ),
    ).toMatch(/\(linkLocal\)/)
    expect(await reason('https://nowhere.example/x')).toBe('host nowhere.example cannot be resolved (ENOTFOUND)')
    expect(await reason('ftp://example.com/x')).toBe('ftp URLs are not allowed; use https')
  })

  it('lets the allow-list open hosts and ranges (IPv4-mapped IPv6 judged as IPv4), and http only when configured', async () => {
    const inside = dns({ 'hooks.internal': ['10.0.0.5'], 'other.internal': ['10.0.0.6'] })
    expect(
      await reason('https://hooks.internal/x', { webhookAllowHttp: false, webhookAllow: 'hooks.internal' }, inside),
    ).toBe('allowed')
    expect(
      await reason('https://other.internal/x', { webhookAllowHttp: false, webhookAllow: 'hooks.internal' }, inside),
    ).toMatch(/private/)
    expect(await reason('https://[::ffff:10.0.0.6]/x', { webhookAllowHttp: false, webhookAllow: '10.0.0.0/24' })).toBe(
      'allowed',
    )
    expect(await reason('https://10.0.1.6/x', { webhookAllowHttp: false, webhookAllow: '10.0.0.0/24' })).toMatch(
      /private/,
    )
    expect(await reason('http://127.0.0.1:9/x', { webhookAllowHttp: false, webhookAllow: '127.0.0.1' })).toBe(
      'http URLs are not allowed; use https',
    )
    expect(await reason('http://127.0.0.1:9/x', { webhookAllowHttp: true, webhookAllow: '127.0.0.1' })).toBe('allowed')
  })
})
