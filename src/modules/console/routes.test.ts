import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import Fastify from 'fastify'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import {
  buildEnterprise,
  buildOperator,
  declarationContent,
  loginUser,
  signed,
  type Headers,
  type TestOperator,
} from '../../../test/factories.js'
import { installErrorHandlers } from '../../errors.js'
import type { DeclarationContent } from '../declarations/schema.js'
import { compressDir } from './compress.js'
import { registerWeb } from './web.js'
import type { Dashboard, QueueItem, RulePreview } from './schema.js'
import * as repo from './repo.js'

const PHONES = {
  hsCode: '8517130000',
  description: 'Smartphones',
  quantity: '10',
  unit: '001',
  unitPrice: '300',
  totalValue: '3000.00',
  originCountry: 'VNM',
}
const SHIRTS = {
  hsCode: '6109100000',
  description: 'Cotton T-shirts',
  quantity: '100',
  unit: '007',
  unitPrice: '2',
  totalValue: '200.00',
  originCountry: 'BGD',
}

describe('console APIs', () => {
  const t = useTestApp()
  let officerA: { headers: Headers }
  let officerB: { headers: Headers }
  let op: TestOperator
  const get = (url: string, headers?: Headers) => t.app.inject({ method: 'GET', url, ...(headers ? { headers } : {}) })
  const post = (url: string, headers: Headers, payload: object) =>
    t.app.inject({ method: 'POST', url, headers, payload })
  const submit = async (over: Partial<DeclarationContent>) => {
    const res = await post('/api/v1/declarations', op.headers, signed(op, declarationContent(op, over)))
    expect(res.statusCode).toBe(201)
    return res.json() as { id: string; entryId: string; lane: string }
  }
  const rule = async (body: object) => {
    const r = await post('/api/v1/selectivity/rules', officerA.headers, body)
    expect(r.statusCode).toBe(201)
    expect((await post(`/api/v1/selectivity/rules/${r.json().id}/activate`, officerB.headers, {})).statusCode).toBe(200)
  }
  let phones: Array<{ id: string; entryId: string }>
  let shirts: Array<{ id: string; entryId: string }>

  beforeAll(async () => {
    officerA = await loginUser(t, 'officer')
    officerB = await loginUser(t, 'officer')
    // No random control draw here: every lane below comes from the two rules.
    const admin = await loginUser(t, 'admin')
    const params = (await get('/api/v1/selectivity/params', admin.headers)).json().params
    expect(
      (
        await t.app.inject({
          method: 'PUT',
          url: '/api/v1/selectivity/params',
          headers: admin.headers,
          payload: { params: { ...params, minRandomRate: 0 } },
        })
      ).statusCode,
    ).toBe(200)
    op = await buildOperator(t, officerA, await buildEnterprise(t, officerA, { name: 'Shenzhen Spike Trading Co.' }))
    // Phones go to a physical inspection, shirts to a document check.
    await rule({
      name: 'phones-red',
      conditions: [{ field: 'hsCode', op: 'prefix', value: ['8517'] }],
      action: { lane: 'RED', reason: 'phones' },
    })
    await rule({
      name: 'shirts-yellow',
      conditions: [{ field: 'hsCode', op: 'prefix', value: ['6109'] }],
      action: { lane: 'YELLOW', reason: 'shirts' },
    })
    phones = []
    shirts = []
    for (let i = 0; i < 6; i++) phones.push(await submit({ items: [PHONES] }))
    for (let i = 0; i < 6; i++) shirts.push(await submit({ items: [SHIRTS] }))
  })

  describe('GET /api/v1/console/dashboard', () => {
    it('refuses without a token (401) and to an operator (403)', async () => {
      expect((await get('/api/v1/console/dashboard')).statusCode).toBe(401)
      expect((await get('/api/v1/console/dashboard', op.headers)).statusCode).toBe(403)
    })

    it('counts the declarations of the minute, the lanes and the targeted intercepts', async () => {
      const res = await get('/api/v1/console/dashboard', officerA.headers)
      expect(res.statusCode).toBe(200)
      const d: Dashboard = res.json()
      expect(d.at).toBe(t.clock.now().toISOString())
      expect(d.totals).toMatchObject({
        declarationsToday: 12,
        declarationsLastHour: 12,
        interceptsLastHour: 6,
        openInspections: 12,
        inspectedToday: 0,
      })
      expect(d.perMinute).toHaveLength(60)
      expect(d.perMinute.at(-1)).toEqual({
        minute: '2026-05-11T01:00:00.000Z',
        declarations: 12,
        intercepts: 6,
        cebTickets: 0,
      })
      expect(d.laneMix).toEqual([
        { lane: 'RED', declarations: 6 },
        { lane: 'YELLOW', declarations: 6 },
      ])
      expect(d.certificates.issuedTotal).toBe(0)
      expect(d.ecommerce).toEqual({ ticketsLastMinute: 0, ticketsLastHour: 0, topRejections: [] })
    })

    it('raises no spike alert before an hour of traffic gives a baseline; counts items per HS6 and declarations per importer by window', async () => {
      const d: Dashboard = (await get('/api/v1/console/dashboard', officerA.headers)).json()
      expect(d.alerts).toEqual([])
      const at = (min: number) => new Date(t.clock.now().getTime() + min * 60_000).toISOString()
      expect(await repo.importerCounts(t.db, at(-70), at(-10), at(1))).toEqual([
        { key: op.enterprise.customsCode, label: 'Shenzhen Spike Trading Co.', recent: 12, before: 0 },
      ])
      expect(await repo.importerCounts(t.db, at(-70), at(1), at(2))).toEqual([
        { key: op.enterprise.customsCode, label: 'Shenzhen Spike Trading Co.', recent: 0, before: 12 },
      ])
      expect((await repo.hsCounts(t.db, at(-70), at(-10), at(1))).sort((a, b) => a.key.localeCompare(b.key))).toEqual([
        { key: '610910', recent: 6, before: 0 },
        { key: '851713', recent: 6, before: 0 },
      ])
    })
  })

  describe('GET /api/v1/console/queue', () => {
    it('lists physical inspections first, each with its priority, trader and top reason', async () => {
      const res = await get('/api/v1/console/queue?limit=100', officerA.headers)
      expect(res.statusCode).toBe(200)
      const { items, total } = res.json() as { items: QueueItem[]; total: number }
      expect(total).toBe(12)
      expect(items.slice(0, 6).map((i) => i.kind)).toEqual(Array(6).fill('PHYSICAL'))
      expect(items.slice(6).map((i) => i.kind)).toEqual(Array(6).fill('DOCUMENT'))
      expect(items[0]).toMatchObject({
        priority: 'HIGH',
        source: 'RULE',
        lane: 'RED',
        traderName: 'Shenzhen Spike Trading Co.',
        items: 1,
        topReason: 'phones-red: phones',
      })
      expect(items[11]).toMatchObject({ priority: 'LOW', lane: 'YELLOW', topReason: 'shirts-yellow: shirts' })
      expect(new Set(items.map((i) => i.entryId))).toEqual(new Set([...phones, ...shirts].map((d) => d.entryId)))
    })
  })

  describe('after an officer records results', () => {
    beforeAll(async () => {
      const { items } = (await get('/api/v1/console/queue?limit=100', officerA.headers)).json() as {
        items: QueueItem[]
      }
      // Four of the phones are undervalued, two are fine; all shirts are fine.
      let n = 0
      for (const it of items) {
        const bad = it.kind === 'PHYSICAL' && n++ < 4
        const body = bad
          ? {
              result: 'NON_COMPLIANT',
              findings: [{ category: 'UNDERVALUATION', itemNo: 1 }],
              disposal: 'TECHNICAL_TREATMENT',
            }
          : { result: 'COMPLIANT', findings: [] }
        expect((await post(`/api/v1/inspections/${it.inspectionId}/result`, officerA.headers, body)).statusCode).toBe(
          200,
        )
      }
    })

    it('the dashboard shows the results: counts, latest findings, targeted hit rate', async () => {
      const d: Dashboard = (await get('/api/v1/console/dashboard', officerA.headers)).json()
      expect(d.totals).toMatchObject({ openInspections: 0, inspectedToday: 12, nonCompliantToday: 4 })
      expect(d.recentResults).toHaveLength(8)
      expect(
        d.recentResults
          .filter((r) => r.result === 'NON_COMPLIANT')
          .every((r) => r.categories.join() === 'UNDERVALUATION'),
      ).toBe(true)
      expect(d.hitRate.targeted).toEqual({ inspected: 12, nonCompliant: 4, hitRate: 0.3333 })
      expect(d.hitRate.series.at(-1)).toMatchObject({ bucket: '2026-05-11T01:00:00.000Z', targetedInspected: 12 })
      expect(d.clearance).toEqual([expect.objectContaining({ port: '5302', released: 8 })])
      expect((await get('/api/v1/console/queue', officerA.headers)).json().total).toBe(0)
    })

    it('previews a rule: how many past declarations it selects and its past hit rate against all inspected', async () => {
      const res = await post('/api/v1/console/rules/preview', officerA.headers, {
        conditions: [
          { field: 'hsCode', op: 'prefix', value: ['8517'] },
          { field: 'originCountry', op: 'eq', value: 'VNM' },
        ],
        days: 7,
      })
      expect(res.statusCode).toBe(200)
      const p: RulePreview = res.json()
      expect(p).toMatchObject({ scanned: 12, truncated: false, selected: 6, selectedShare: 0.5 })
      expect(p.selectedInspected).toEqual({ inspected: 6, nonCompliant: 4, hitRate: 0.6667 })
      expect(p.baseline).toEqual({ inspected: 12, nonCompliant: 4, hitRate: 0.3333 })
      expect(p.examples.map((e) => e.id).sort()).toEqual(phones.map((d) => d.id).sort())
    })

    it('previews a rule on header fields and values in CNY (unit value of shirts: 2 USD × 7.1)', async () => {
      const p: RulePreview = (
        await post('/api/v1/console/rules/preview', officerA.headers, {
          conditions: [
            { field: 'unitValueCny', op: 'lt', value: 15 },
            { field: 'traderCredit', op: 'eq', value: 'REGULAR' },
          ],
        })
      ).json()
      expect(p.selected).toBe(6)
      expect(p.selectedInspected.nonCompliant).toBe(0)
    })

    it('refuses an incoherent rule with a pointer (422) and an operator (403)', async () => {
      const bad = await post('/api/v1/console/rules/preview', officerA.headers, {
        conditions: [{ field: 'packages', op: 'between', value: 'x' }],
      })
      expect(bad.statusCode).toBe(422)
      expect(bad.json()).toMatchObject({
        code: 'RULE_BAD_VALUE',
        errors: [{ code: 'RULE_BAD_VALUE', pointer: '/body/conditions/0/value' }],
      })
      expect(
        (
          await post('/api/v1/console/rules/preview', op.headers, {
            conditions: [{ field: 'packages', op: 'gt', value: 1 }],
          })
        ).statusCode,
      ).toBe(403)
    })
  })

  it('are described in the OpenAPI document; the console routes at / are not', async () => {
    const paths = Object.keys((await get('/api/openapi.json')).json().paths)
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/v1/console/dashboard',
        '/api/v1/console/stream',
        '/api/v1/console/queue',
        '/api/v1/console/rules/preview',
      ]),
    )
    expect(paths.filter((p) => p === '/' || p === '/*')).toEqual([])
  })

  describe('GET /api/v1/console/stream', () => {
    it('streams snapshot events to an officer over a real connection', async () => {
      const address = await t.app.listen({ port: 0, host: '127.0.0.1' })
      const ctl = new AbortController()
      const res = await fetch(`${address}/api/v1/console/stream`, { headers: officerA.headers, signal: ctl.signal })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
      const reader = res.body!.getReader()
      // Read until one whole snapshot event arrived (the retry hint may come in a chunk of its own).
      const decoder = new TextDecoder()
      let text = ''
      let m: RegExpExecArray | null = null
      while (!(m = /event: snapshot\ndata: (.*)\n\n/.exec(text)))
        text += decoder.decode((await reader.read()).value, { stream: true })
      ctl.abort()
      expect(text.startsWith('retry: 2000\n\n')).toBe(true)
      const data = m[1]!
      expect(JSON.parse(data)).toMatchObject({
        at: t.clock.now().toISOString(),
        totals: { declarationsToday: 12, inspectedToday: 12 },
      })
      expect((await fetch(`${address}/api/v1/console/stream`)).status).toBe(401)
    })
  })
})

describe('the console at /', () => {
  const make = async (dir: string | undefined) => {
    const app = Fastify()
    installErrorHandlers(app)
    app.get('/api/v1/health', async () => ({ status: 'ok' }))
    app.get('/verify/:token', async () => 'verified by the server')
    await registerWeb(app, dir ?? join(tmpdir(), 'kouan-no-web-here'))
    return app
  }
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kouan-web-'))
    mkdirSync(join(dir, 'assets'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Kouan console</title><div id="root"></div>')
    writeFileSync(join(dir, 'assets', 'app-1a2b.js'), 'console.log(1)')
    writeFileSync(
      join(dir, 'assets', 'big-3c4d.js'),
      `export const table = ${JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ i, name: `item ${i}` })))}`,
    )
    compressDir(dir)
  })

  it('serves index.html at / and for deep links, hashed assets with a long cache', async () => {
    const app = await make(dir)
    for (const url of ['/', '/officer/queue', '/portal/declarations/abc?x=1']) {
      const r = await app.inject({ method: 'GET', url })
      expect(r.statusCode).toBe(200)
      expect(r.body).toContain('<title>Kouan console</title>')
      expect(r.headers['cache-control']).toBe('no-cache')
    }
    const asset = await app.inject({ method: 'GET', url: '/assets/app-1a2b.js' })
    expect(asset.statusCode).toBe(200)
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    await app.close()
  })

  it('sends the pre-compressed asset to a client that accepts it, the plain one otherwise', async () => {
    const app = await make(dir)
    const plain = readFileSync(join(dir, 'assets', 'big-3c4d.js'))
    const br = await app.inject({
      method: 'GET',
      url: '/assets/big-3c4d.js',
      headers: { 'accept-encoding': 'br, gzip' },
    })
    expect(br.headers['content-encoding']).toBe('br')
    expect(br.rawPayload.length).toBeLessThan(plain.length / 4)
    expect(brotliDecompressSync(br.rawPayload).equals(plain)).toBe(true)
    const gz = await app.inject({ method: 'GET', url: '/assets/big-3c4d.js', headers: { 'accept-encoding': 'gzip' } })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gz.rawPayload).equals(plain)).toBe(true)
    const none = await app.inject({ method: 'GET', url: '/assets/big-3c4d.js' })
    expect(none.headers['content-encoding']).toBeUndefined()
    expect(none.rawPayload.equals(plain)).toBe(true)
    // Small files are not worth compressing and stay plain.
    expect(
      (await app.inject({ method: 'GET', url: '/assets/app-1a2b.js', headers: { 'accept-encoding': 'br' } })).headers[
        'content-encoding'
      ],
    ).toBeUndefined()
    await app.close()
  })

  it('leaves /api, /metrics and /verify to the server: their unknown paths stay JSON 404s', async () => {
    const app = await make(dir)
    expect((await app.inject({ method: 'GET', url: '/api/v1/health' })).json()).toEqual({ status: 'ok' })
    expect((await app.inject({ method: 'GET', url: '/verify/abc' })).body).toBe('verified by the server')
    for (const url of ['/api/v1/nope', '/api', '/metrics/x', '/verify']) {
      const r = await app.inject({ method: 'GET', url })
      expect(r.statusCode).toBe(404)
      expect(r.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' })
    }
    expect((await app.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode).toBe(200) // the SPA answers; the browser sees HTML
    await app.close()
  })

  it('says how to build the console when it is not built', async () => {
    const app = await make(undefined)
    const r = await app.inject({ method: 'GET', url: '/' })
    expect(r.statusCode).toBe(200)
    expect(r.body).toContain('npm run build')
    await app.close()
  })
})
