import type { InjectOptions } from 'fastify'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../test/app.js'
import { countRows } from '../test/db.js'
import { buildEnterprise, buildOperator, loginUser, type Headers, type TestOperator } from '../test/factories.js'
import { ConfigError, loadConfig } from './config.js'
import type { AppEvents } from './context.js'
import type { EventBus } from './shared/events.js'
import { ed25519 } from './shared/signing.js'
import { jsonMayHoldBadText, textProblem } from './shared/text.js'

const METRICS_TOKEN = 'm3tr1cs-t0ken-for-the-scraper-0123456789'

describe('text that cannot be stored: NUL and unpaired surrogates', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  let op: TestOperator
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    op = await buildOperator(t, officer, await buildEnterprise(t, officer))
  })

  /** Row counts of the tables these requests could write to. */
  const snapshot = async () =>
    Object.fromEntries(
      await Promise.all(
        [
          'port_cards',
          'auth_challenges',
          'auth_throttle',
          'enterprises',
          'audit_log',
          'declaration_refs',
          'ceb_documents',
        ].map(async (table) => [table, await countRows(t.db, table)]),
      ),
    )

  const cases: { name: string; pointer: string; req: () => InjectOptions }[] = [
    {
      name: 'a NUL in the login username (anonymous)',
      pointer: '/body/username',
      req: () => ({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'offi\u0000cer', password: 'pw' },
      }),
    },
    {
      name: 'a lone high surrogate in the login password',
      pointer: '/body/password',
      req: () => ({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'officer', password: 'pw\ud800' },
      }),
    },
    {
      name: 'a NUL in the challenge card number (anonymous)',
      pointer: '/body/cardNo',
      req: () => ({ method: 'POST', url: '/api/v1/auth/challenge', payload: { cardNo: `${op.cardNo}\u0000` } }),
    },
    {
      name: 'a lone low surrogate in the challenge card number',
      pointer: '/body/cardNo',
      req: () => ({ method: 'POST', url: '/api/v1/auth/challenge', payload: { cardNo: '\udc00EP' } }),
    },
    {
      name: "a lone surrogate in a card's operator name (once stored as U+FFFD)",
      pointer: '/body/operatorName',
      req: () => ({
        method: 'POST',
        url: '/api/v1/cards',
        headers: officer.headers,
        payload: { enterpriseId: op.enterprise.id, operatorName: 'Li \ud83d', publicKey: ed25519.generate().publicKey },
      }),
    },
    {
      name: "a NUL in a card's operator name",
      pointer: '/body/operatorName',
      req: () => ({
        method: 'POST',
        url: '/api/v1/cards',
        headers: officer.headers,
        payload: {
          enterpriseId: op.enterprise.id,
          operatorName: 'Li\u0000Lei',
          publicKey: ed25519.generate().publicKey,
        },
      }),
    },
    {
      name: 'a NUL in an enterprise name',
      pointer: '/body/name',
      req: () => ({
        method: 'POST',
        url: '/api/v1/enterprises',
        headers: officer.headers,
        payload: { name: 'ACME\u0000', uscc: 'x', customsCode: 'x', registeredDistrict: '5300' },
      }),
    },
    {
      name: 'a lone surrogate deep in a declaration',
      pointer: '/body/items/1/goodsName',
      req: () => ({
        method: 'POST',
        url: '/api/v1/declarations',
        headers: op.headers,
        payload: { clientRef: 'R-1', items: [{ goodsName: 'ok' }, { goodsName: 'apples \ud800' }] },
      }),
    },
    {
      name: 'a NUL deep in a CEB JSON message',
      pointer: '/body/message/Order/0/OrderHead/orderNo',
      req: () => ({
        method: 'POST',
        url: '/api/v1/ceb/messages',
        headers: op.headers,
        payload: {
          type: 'CEB311',
          message: { Order: [{ OrderHead: { orderNo: 'A\u0000' } }] },
          signature: { cardNo: op.cardNo, alg: 'Ed25519', value: 'x' },
        },
      }),
    },
    {
      name: 'a NUL in an object key',
      pointer: '/body/user\ufffdname',
      req: () => ({ method: 'POST', url: '/api/v1/auth/login', payload: { 'user\u0000name': 'x', password: 'pw' } }),
    },
    {
      name: 'a NUL in a query string value',
      pointer: '/query/q',
      req: () => ({ method: 'GET', url: '/api/v1/enterprises?q=ac%00me', headers: officer.headers }),
    },
    {
      name: 'a NUL in a query string key',
      pointer: '/query/\ufffd',
      req: () => ({ method: 'GET', url: '/api/v1/enterprises?%00=1', headers: officer.headers }),
    },
    {
      name: 'a NUL in a path parameter',
      pointer: '/params/orderNo',
      req: () => ({ method: 'GET', url: '/api/v1/ceb/orders/A%00B/receipts', headers: op.headers }),
    },
    {
      name: "a NUL in the public verify page's path",
      pointer: '/params/*',
      req: () => ({ method: 'GET', url: '/verify/K1.%00' }),
    },
    {
      name: 'bytes that are not UTF-8 in a JSON body',
      pointer: '/body',
      req: () => ({
        method: 'POST',
        url: '/api/v1/auth/challenge',
        headers: { 'content-type': 'application/json' },
        payload: Buffer.concat([Buffer.from('{"cardNo":"EP'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
      }),
    },
  ]

  it.each(cases)('refuses $name: 400 INVALID_TEXT at $pointer, nothing written', async ({ pointer, req }) => {
    const before = await snapshot()
    const res = await t.app.inject(req())
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({
      statusCode: 400,
      code: 'INVALID_TEXT',
      pointer,
      errors: [{ code: 'INVALID_TEXT', pointer }],
    })
    expect(await snapshot()).toEqual(before)
  })

  it('keeps characters outside the BMP (surrogate pairs) and CJK text intact', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/cards',
      headers: officer.headers,
      payload: { enterpriseId: op.enterprise.id, operatorName: '李雷 😀𠀀', publicKey: ed25519.generate().publicKey },
    })
    expect(res.statusCode).toBe(201)
    const [row] = await t.db.query<{ operator_name: string }>('select operator_name from port_cards where id = $1', [
      res.json().id,
    ])
    expect(row!.operator_name).toBe('李雷 😀𠀀')
  })

  it('accepts escaped surrogate pairs and an escaped backslash before u0000 (the text scan only decides whether to walk)', async () => {
    for (const [raw, parsed] of [
      ['\\ud83d\\ude00', '😀'],
      ['\\\\u0000', '\\u0000'],
    ] as const) {
      expect(jsonMayHoldBadText(`{"username":"${raw}"}`)).toBe(true)
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        payload: `{"username":"${raw}","password":"x"}`,
        remoteAddress: '192.0.2.77',
      })
      expect(res.statusCode).toBe(401)
      expect(res.json().code).toBe('AUTH_BAD_CREDENTIALS')
      expect(JSON.parse(`"${raw}"`)).toBe(parsed)
    }
    expect(jsonMayHoldBadText(JSON.stringify({ name: '李雷 😀', note: 'a\\b "q"' }))).toBe(false)
  })

  it('answers a malformed percent-encoding in the URL with the common error body (400 BAD_URL at /url), even anonymously', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/declarations/%E0%A4%A' })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({
      statusCode: 400,
      code: 'BAD_URL',
      pointer: '/url',
      errors: [{ code: 'BAD_URL', pointer: '/url' }],
    })
    expect(typeof res.json().requestId).toBe('string')
  })

  it('still answers malformed JSON as MALFORMED_JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": ',
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'MALFORMED_JSON', pointer: '/body' })
  })

  it('still refuses a __proto__ key in JSON bodies', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username":"a","password":"b","__proto__":{"x":1}}',
    })
    expect(res.statusCode).toBe(400)
  })

  it('finds the first bad string of a large body in one pass and names it', () => {
    const items = Array.from({ length: 500 }, (_, i) => ({
      clientRef: `R-${i}`,
      items: [{ goodsName: 'ok', tags: ['a', 'b'] }],
    }))
    expect(textProblem({ declarations: items }, '/body')).toBeUndefined()
    items[321]!.items[0]!.tags[1] = 'b\u0000'
    expect(textProblem({ declarations: items }, '/body')).toEqual({
      pointer: '/body/declarations/321/items/0/tags/1',
      what: 'a NUL character',
    })
    expect(textProblem({ 'a/b~c': '\udfff' }, '/query')).toEqual({
      pointer: '/query/a~1b~0c',
      what: 'an unpaired surrogate',
    })
    // Deep nesting is walked without recursion.
    let deep: unknown = 'x\u0000'
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(textProblem(deep, '/body')?.pointer).toBe(`/body${'/0'.repeat(100_000)}`)
  })
})

describe('/metrics without KOUAN_METRICS_TOKEN', () => {
  const t = useTestApp()
  it('is not served: 404 ROUTE_NOT_FOUND, with or without a token', async () => {
    for (const headers of [{}, { authorization: `Bearer ${METRICS_TOKEN}` }]) {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers })
      expect(res.statusCode).toBe(404)
      expect(res.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' })
      expect(res.body).not.toContain('kouan_')
    }
  })
})

describe('/metrics with KOUAN_METRICS_TOKEN', () => {
  const t = useTestApp({ metricsToken: METRICS_TOKEN })
  const get = (headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url: '/metrics', headers })

  it('serves the Prometheus text to the bearer of the token', async () => {
    const res = await get({ authorization: `Bearer ${METRICS_TOKEN}` })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.body).toContain('# TYPE kouan_lane_decisions_total counter')
    expect(res.body).toContain('# TYPE kouan_clearance_seconds histogram')
  })

  it('refuses a request without the token: 401 AUTH_REQUIRED with WWW-Authenticate, no metrics', async () => {
    const res = await get()
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"')
    expect(res.json()).toMatchObject({ code: 'AUTH_REQUIRED', pointer: '/headers/authorization' })
    expect(res.body).not.toContain('kouan_')
  })

  it('refuses a wrong token, a session token and other schemes: 401 AUTH_INVALID_TOKEN', async () => {
    const officer = await loginUser(t, 'admin')
    for (const authorization of [
      `Bearer ${METRICS_TOKEN}x`,
      `Bearer ${METRICS_TOKEN.slice(1)}`,
      officer.headers.authorization,
      `Basic ${METRICS_TOKEN}`,
      METRICS_TOKEN,
    ]) {
      const res = await get({ authorization })
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'AUTH_INVALID_TOKEN', pointer: '/headers/authorization' })
    }
  })

  it('is left out of the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json()
    expect(Object.keys(doc.paths)).not.toContain('/metrics')
  })
})

describe('KOUAN_METRICS_TOKEN', () => {
  it('must be at least 16 characters', () => {
    expect(() => loadConfig({ KOUAN_METRICS_TOKEN: 'short' })).toThrow(ConfigError)
    expect(() => loadConfig({ KOUAN_METRICS_TOKEN: 'short' })).toThrow(/KOUAN_METRICS_TOKEN/)
    expect(loadConfig({ KOUAN_METRICS_TOKEN: METRICS_TOKEN }).metricsToken).toBe(METRICS_TOKEN)
  })
})

describe('event subscriptions wired by the composition root', () => {
  const t = useTestApp()
  it('subscribes inspections and certificates to the declaration moves in the transaction, archives after commit', () => {
    // The table in docs/ARCHITECTURE.md ("Modules and their boundaries") says the same.
    expect((t.app.kouan.events as EventBus<AppEvents>).subscriptions()).toEqual([
      { type: 'InspectionOrdered', subscriber: 'inspections', mode: 'inTx' },
      { type: 'DeclarationReleased', subscriber: 'certificates', mode: 'inTx' },
      { type: 'DeclarationCleared', subscriber: 'archives', mode: 'afterCommit' },
    ])
  })
})
