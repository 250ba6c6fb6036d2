import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../app.js'
import { loadConfig } from '../../config.js'
import { openPglite, type Db } from '../../db/index.js'
import { migrate } from '../../db/migrate.js'
import { fixedClock, type Ids } from '../../shared/clock.js'

// No shared test helpers exist yet (test/); this builds the real app on a fresh in-memory database.
let db: Db
let app: FastifyInstance
beforeAll(async () => {
  db = await openPglite()
  await migrate(db)
  let n = 0
  const ids: Ids = {
    uuid: () => `00000000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
    token: (len) => 'x'.repeat(len),
  }
  app = await buildApp(loadConfig({}, { logLevel: 'silent' }), { db, clock: fixedClock('2025-08-01T00:00:00Z'), ids })
}, 60_000)
afterAll(async () => {
  await app?.close()
  await db?.close()
})

const get = (url: string) => app.inject({ method: 'GET', url: `/api/v1/reference${url}` })

describe('GET /api/v1/reference/hs', () => {
  it('searches by words without authentication', async () => {
    const res = await get('/hs?q=horses%20live&limit=2')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      items: [
        { code: '0101', level: 4, description: 'Horses, asses, mules and hinnies; live' },
        { code: '010121', level: 6, description: 'Horses; live, pure-bred breeding animals' },
      ],
    })
  })

  it('searches Chinese names and code prefixes', async () => {
    const zh = await get(`/hs?q=${encodeURIComponent('改良种用马')}`)
    expect(zh.json().items).toEqual([
      { code: '01012100', level: 8, description: 'Live pure-bred breeding horses', descriptionZh: '改良种用马' },
    ])
    const prefix = await get('/hs?q=0101.21')
    expect(prefix.json().items.map((h: { code: string }) => h.code)).toEqual(['010121', '01012100'])
  })

  it('returns 20 results by default', async () => {
    const res = await get('/hs?q=01')
    expect(res.json().items).toHaveLength(20)
  })

  it.each([
    ['/hs', '/querystring/q'],
    ['/hs?q=', '/querystring/q'],
    [`/hs?q=${'a'.repeat(101)}`, '/querystring/q'],
    ['/hs?q=horse&limit=101', '/querystring/limit'],
    ['/hs?q=horse&limit=0', '/querystring/limit'],
    ['/hs?q=horse&limit=ten', '/querystring/limit'],
    ['/hs?q=horse&page=2', '/querystring/page'],
  ])('rejects %s', async (url, pointer) => {
    const res = await get(url)
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', pointer })
  })
})

describe('GET /api/v1/reference/hs/:code', () => {
  it('returns an HS heading', async () => {
    const res = await get('/hs/0101')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      code: '0101',
      level: 4,
      description: 'Horses, asses, mules and hinnies; live',
      parent: '01',
      section: 'I',
    })
  })

  it('returns a tariff line with its JGS-20 units', async () => {
    const res = await get('/hs/01012100')
    expect(res.json()).toEqual({
      code: '01012100',
      level: 8,
      description: 'Live pure-bred breeding horses',
      descriptionZh: '改良种用马',
      parent: '010121',
      section: 'I',
      unit1: '035',
      unit2: '009',
    })
    expect((await get('/hs/30069300')).json()).toMatchObject({ unit1: '035', unit2: null })
  })

  it('returns China national lines that have no HS2022 parent', async () => {
    expect((await get('/hs/98050000')).json()).toMatchObject({
      code: '98050000',
      level: 8,
      parent: null,
      section: null,
    })
  })

  it('answers 404 for an unknown code', async () => {
    const res = await get('/hs/1234')
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({
      code: 'REFERENCE_NOT_FOUND',
      message: 'no HS code 1234',
      pointer: '/params/code',
    })
  })

  it.each(['123', '0101210000', '01a1'])('rejects the malformed code %s', async (code) => {
    const res = await get(`/hs/${code}`)
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', pointer: '/params/code' })
  })
})

describe('GET /api/v1/reference code lists', () => {
  it('lists countries with both code systems', async () => {
    const items = (await get('/countries')).json().items as Array<Record<string, unknown>>
    expect(items).toHaveLength(270)
    expect(items).toContainEqual({ iso2: 'CN', iso3: 'CHN', chinaCode: '142', nameEn: 'China', nameZh: '中国' })
    expect(items).toContainEqual({
      iso2: '',
      iso3: '',
      chinaCode: '701',
      nameEn: 'Countries (regions) unknown',
      nameZh: '国（地）别不详',
    })
  })

  it('lists currencies', async () => {
    const items = (await get('/currencies')).json().items
    expect(items).toContainEqual({ code: 'CNY', name: 'Yuan Renminbi', digits: 2 })
  })

  it.each([
    ['/trade-modes', 59, { code: '0110', name: '一般贸易', nameEn: 'General trade' }],
    ['/transport-modes', 18, { code: '2', name: '水路运输', nameEn: 'Water' }],
    ['/transaction-terms', 7, { code: '3', name: 'FOB' }],
    ['/units', 126, { code: '035', name: '千克' }],
    ['/customs-offices', 25, { code: '5301', name: '皇岗海关', nameEn: 'Huanggang Customs' }],
  ])('lists %s', async (url, count, sample) => {
    const res = await get(url)
    expect(res.statusCode).toBe(200)
    expect(res.json().items).toHaveLength(count)
    expect(res.json().items).toContainEqual(sample)
  })

  it('rejects unknown query parameters', async () => {
    const res = await get('/units?lang=en')
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', pointer: '/querystring/lang' })
  })

  it('documents every route under the reference tag', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
      paths: Record<string, Record<string, { tags?: string[] }>>
    }
    const paths = Object.keys(spec.paths).filter((p) => p.startsWith('/api/v1/reference'))
    expect(paths.sort()).toEqual([
      '/api/v1/reference/countries',
      '/api/v1/reference/currencies',
      '/api/v1/reference/customs-offices',
      '/api/v1/reference/hs',
      '/api/v1/reference/hs/{code}',
      '/api/v1/reference/trade-modes',
      '/api/v1/reference/transaction-terms',
      '/api/v1/reference/transport-modes',
      '/api/v1/reference/units',
    ])
    for (const p of paths) expect(spec.paths[p]!.get!.tags).toEqual(['reference'])
  })
})
