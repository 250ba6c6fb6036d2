import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../test/app.js'
import { countRows } from '../../test/db.js'
import { seededRandom, systemIds } from '../shared/clock.js'
import { usccProblem } from '../shared/uscc.js'
import { verifyAudit } from '../shared/audit.js'
import { sweepArchives } from '../modules/archives/index.js'
import { createUser } from '../modules/auth/service.js'
import { contentProblems } from '../modules/declarations/lifecycle.js'
import { resultProblems } from '../modules/inspections/service.js'
import { loadReference } from '../modules/reference/data.js'
import { CREDIT_LEVELS } from '../modules/enterprises/schema.js'
import { DEFAULT_CREDIT_SHARES, allocateLevels, generateWorld, perUsd, priceModel } from './world.js'
import {
  DEFAULT_FRAUD_RATES,
  FRAUD_KINDS,
  generateDeclaration,
  officerResult,
  type GeneratedDeclaration,
} from './generate.js'
import { DATASET_COLUMNS, csvField, exportDataset } from './dataset.js'
import { cardSigner, runSimulation, simulationRules } from './run.js'
import { readDemoCard, type DemoCard } from './demo-card.js'
import { ed25519, signPayload } from '../shared/signing.js'

const ref = loadReference()

function generate(seed: number, n: number, enterprises = 100): GeneratedDeclaration[] {
  const world = generateWorld(ref, { seed, enterprises })
  const rng = seededRandom(seed)
  return Array.from({ length: n }, (_, i) => generateDeclaration(world, rng, { clientRef: `T-${i}` }))
}

describe('simulator world and generation (pure)', () => {
  it('is deterministic: same seed, same world and declarations; another seed differs', () => {
    const a = generateWorld(ref, { seed: 42, enterprises: 30 })
    const b = generateWorld(ref, { seed: 42, enterprises: 30 })
    expect(JSON.stringify(b.enterprises)).toBe(JSON.stringify(a.enterprises))
    expect(b.riskyChapters).toEqual(a.riskyChapters)
    expect(JSON.stringify(generate(42, 200))).toBe(JSON.stringify(generate(42, 200)))
    expect(JSON.stringify(generateWorld(ref, { seed: 43, enterprises: 30 }).enterprises)).not.toBe(
      JSON.stringify(a.enterprises),
    )
  })

  it('gives enterprises valid, unique codes and every credit level in the configured shares', () => {
    const world = generateWorld(ref, { seed: 7, enterprises: 1000 })
    const counts = Object.fromEntries(
      CREDIT_LEVELS.map((l) => [l, world.enterprises.filter((e) => e.creditLevel === l).length]),
    )
    expect(counts).toEqual({
      ADVANCED_CERTIFIED: 50,
      CERTIFIED: 150,
      REGULAR: 700,
      DISHONEST: 80,
      SERIOUSLY_DISHONEST: 20,
    })
    expect(new Set(world.enterprises.map((e) => e.customsCode)).size).toBe(1000)
    for (const e of world.enterprises) {
      expect(usccProblem(e.uscc)).toBeUndefined()
      expect(e.customsCode).toMatch(/^[0-9A-Z]{10}$/)
      expect(e.partners.every((c) => ref.countryByIso3(c))).toBe(true)
      expect(e.catalogue.every((c) => world.model.line(c))).toBe(true)
    }
    // Small worlds still have every level; fraud propensity follows credit.
    const small = generateWorld(ref, { seed: 1, enterprises: 8 })
    expect(new Set(small.enterprises.map((e) => e.creditLevel)).size).toBe(5)
    const mean = (l: string) => {
      const xs = world.enterprises.filter((e) => e.creditLevel === l).map((e) => e.propensity)
      return xs.reduce((s, x) => s + x, 0) / xs.length
    }
    expect(mean('DISHONEST')).toBeGreaterThan(3 * mean('REGULAR'))
    expect(mean('REGULAR')).toBeGreaterThan(2 * mean('ADVANCED_CERTIFIED'))
    expect(allocateLevels(3, DEFAULT_CREDIT_SHARES, true)).toEqual({
      ADVANCED_CERTIFIED: 0,
      CERTIFIED: 1,
      REGULAR: 2,
      DISHONEST: 0,
      SERIOUSLY_DISHONEST: 0,
    })
  })

  it('prices and rates tariff lines deterministically, per unit, with lower-rate siblings in the same HS4', () => {
    const m = priceModel(ref)
    expect(m.lines.length).toBeGreaterThan(8900)
    expect(m.line('85171300')!.unit).toBe('001')
    expect(m.priceUsd('85171300')).toBeGreaterThan(20)
    expect(m.priceUsd('85171300')).toBeLessThan(5000)
    expect(m.priceUsd('08081000')).toBeLessThan(20) // apples, per kg
    expect(m.priceUsd('27090000')).toBeLessThan(5) // crude oil, per kg
    for (const l of m.misclassifiable.slice(0, 500)) {
      const s = m.lowerRateSibling(l.code)!
      expect(s.hs4).toBe(l.hs4)
      expect(s.unit).toBe(l.unit)
      expect(s.rate).toBeLessThan(l.rate)
    }
  })

  it('generates 2,000 declarations the server accepts as content', () => {
    for (const g of generate(3, 2000)) {
      expect(contentProblems(g.content, ref)).toEqual([])
      expect(Number(g.content.grossMassKg)).toBeGreaterThanOrEqual(Number(g.content.netMassKg))
      expect(Number(g.content.netMassKg)).toBeGreaterThan(0)
    }
  })

  it('hides fraud at the configured rates, and undervalued prices are below the reference', () => {
    const n = 20_000
    const gs = generate(11, n, 200)
    for (const k of FRAUD_KINDS) {
      const observed = gs.filter((g) => g.truth.kinds.includes(k)).length / n
      const expected = DEFAULT_FRAUD_RATES[k]
      expect(Math.abs(observed - expected), `${k}: ${observed} vs ${expected}`).toBeLessThan(
        Math.max(0.003, expected * 0.25),
      )
    }
    const doubled = (() => {
      const world = generateWorld(ref, { seed: 11, enterprises: 200 })
      const rng = seededRandom(5)
      return Array.from({ length: 10_000 }, () => generateDeclaration(world, rng, { rates: { UNDERVALUATION: 0.06 } }))
    })()
    const rate = doubled.filter((g) => g.truth.kinds.includes('UNDERVALUATION')).length / doubled.length
    expect(rate).toBeGreaterThan(0.05)
    expect(rate).toBeLessThan(0.07)

    const m = priceModel(ref)
    let undervalued = 0
    for (const g of gs) {
      g.content.items.forEach((it, i) => {
        const t = g.truth.items[i]!
        if (!t.kinds.includes('UNDERVALUATION')) return
        undervalued++
        const declaredUsd = Number(it.unitPrice) / perUsd(g.content.currency)
        // Below the reference price of the goods (the declared code's too, unless misclassified as well).
        expect(declaredUsd).toBeLessThan(m.priceUsd(t.hsCode8))
        if (!t.kinds.includes('MISCLASSIFICATION')) expect(declaredUsd).toBeLessThan(m.priceUsd(it.hsCode.slice(0, 8)))
        expect(declaredUsd).toBeLessThan(t.unitPriceUsd * 0.61)
      })
      for (const [i, t] of g.truth.items.entries()) {
        const it = g.content.items[i]!
        if (t.kinds.includes('MISCLASSIFICATION'))
          expect(m.tariffRate(it.hsCode.slice(0, 8))).toBeLessThan(m.tariffRate(t.hsCode8))
        else expect(it.hsCode.slice(0, 8)).toBe(t.hsCode8)
        if (t.kinds.includes('QUANTITY')) expect(Number(it.quantity)).toBeLessThan(t.quantity)
        if (t.kinds.includes('ORIGIN')) expect(it.originCountry).not.toBe(t.originCountry)
      }
      if (g.truth.kinds.includes('CONCEALMENT')) expect(g.truth.concealed.length).toBeGreaterThan(0)
      expect(g.truth.fraud).toBe(g.truth.kinds.length > 0)
    }
    expect(undervalued).toBeGreaterThan(300)
    // Dishonest traders hide far more fraud than AEOs.
    const share = (levels: string[]) => {
      const xs = gs.filter((g) => levels.includes(g.truth.creditLevel))
      return xs.filter((g) => g.truth.fraud).length / xs.length
    }
    expect(share(['DISHONEST', 'SERIOUSLY_DISHONEST'])).toBeGreaterThan(4 * share(['ADVANCED_CERTIFIED', 'CERTIFIED']))
  })

  it("officer results are valid, find fraud with the check's probability, and open cases for critical fraud", () => {
    const gs = generate(5, 20_000, 200)
    const rng = seededRandom(9)
    const fraud = gs.filter((g) => g.truth.fraud && !g.truth.kinds.includes('CONCEALMENT'))
    const physical = fraud.map((g) => officerResult(g.truth, rng, 'PHYSICAL', { qualityIssueRate: 0 }))
    const document = fraud.map((g) => officerResult(g.truth, rng, 'DOCUMENT'))
    for (const r of [...physical, ...document]) expect(resultProblems(r)).toEqual([])
    const hit = (rs: typeof physical) => rs.filter((r) => r.result === 'NON_COMPLIANT').length / rs.length
    expect(hit(physical)).toBeGreaterThan(0.88)
    expect(hit(document)).toBeGreaterThan(0.55)
    expect(hit(document)).toBeLessThan(hit(physical))
    const honest = gs
      .filter((g) => !g.truth.fraud)
      .slice(0, 2000)
      .map((g) => officerResult(g.truth, rng, 'DOCUMENT'))
    expect(honest.every((r) => r.result === 'COMPLIANT')).toBe(true)
    const critical = gs
      .filter((g) => g.truth.critical)
      .map((g) => officerResult(g.truth, rng, 'PHYSICAL', { physicalDetection: 1, qualityIssueRate: 0 }))
    expect(critical.length).toBeGreaterThan(10)
    expect(critical.every((r) => r.disposal === 'CASE_OPENED')).toBe(true)
    const undervaluedOnly = gs
      .filter((g) => g.truth.kinds.join() === 'UNDERVALUATION' && !g.truth.critical)
      .map((g) => officerResult(g.truth, rng, 'PHYSICAL', { physicalDetection: 1, qualityIssueRate: 0 }))
    expect(
      undervaluedOnly.every(
        (r) => r.disposal === 'RELEASE' && r.findings.every((f) => f.category === 'UNDERVALUATION'),
      ),
    ).toBe(true)
  })

  it('signs exactly as signPayload does', () => {
    const keys = ed25519.generate()
    const sign = cardSigner(keys.privateKey, keys.publicKey)
    for (const g of generate(2, 20)) expect(sign(g.content)).toBe(signPayload(keys.privateKey, g.content))
  })

  it('builds targeting rules from the world', () => {
    const world = generateWorld(ref, { seed: 3, enterprises: 40 })
    const rules = simulationRules(world)
    expect(rules[0]!.conditions).toEqual([{ field: 'traderCredit', op: 'in', value: ['DISHONEST'] }])
    expect(rules.every((r) => r.name.startsWith('sim-3-'))).toBe(true)
  })
})

describe('dataset export', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kouan-sim-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('quotes CSV fields per RFC 4180', () => {
    expect(csvField('plain')).toBe('plain')
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField('two\nlines')).toBe('"two\nlines"')
    expect(csvField(' edge')).toBe('" edge"')
    expect(csvField(undefined)).toBe('')
  })

  it('writes one labelled row per item that a CSV parser reads back', async () => {
    const out = join(dir, 'ds.csv')
    const s = await exportDataset({ count: 3000, seed: 4, out })
    const records = parse(readFileSync(out, 'utf8'), { columns: true }) as Array<Record<string, string>>
    expect(Object.keys(records[0]!)).toEqual([...DATASET_COLUMNS])
    expect(records.length).toBe(s.rows)
    expect(new Set(records.map((r) => r.decl_index)).size).toBe(3000)
    expect(records.filter((r) => r.g_no === '1' && r.fraud === '1').length).toBe(s.fraud)
    expect(s.fraud / s.declarations).toBeGreaterThan(0.04)
    expect(s.fraud / s.declarations).toBeLessThan(0.12)
    for (const r of records.slice(0, 500)) {
      expect(r.hs_code).toMatch(/^\d{10}$/)
      expect(['0', '1']).toContain(r.fraud)
      if (r.fraud === '0') expect(r.fraud_kinds).toBe('')
    }
    // Deterministic per seed.
    const again = join(dir, 'ds2.csv')
    await exportDataset({ count: 3000, seed: 4, out: again })
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(out, 'utf8'))
  })

  it('rejects an unwritable path', async () => {
    await expect(exportDataset({ count: 10, seed: 1, out: join(dir, 'no', 'such', 'dir.csv') })).rejects.toThrow()
  })
})

describe('simulation against a live server', () => {
  const t = useTestApp()
  let baseUrl: string
  const officer = { username: 'sim-officer', password: 'sim-officer-secret' }
  const officer2 = { username: 'sim-officer2', password: 'sim-officer2-secret' }
  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const addr = t.app.server.address()
    if (!addr || typeof addr === 'string') throw new Error('no address')
    baseUrl = `http://127.0.0.1:${addr.port}`
    await createUser(t.db, t.clock, systemIds, { ...officer, role: 'officer' })
    await createUser(t.db, t.clock, systemIds, { ...officer2, role: 'officer' })
  })

  it('registers the world, submits declarations at the rate and works the inspections', async () => {
    const logs: string[] = []
    const stats = await runSimulation({
      baseUrl,
      officer,
      officer2,
      rate: 50,
      durationSec: 3,
      enterprises: 8,
      seed: 5,
      log: (m) => logs.push(m),
      reference: ref,
      rates: { UNDERVALUATION: 0.2, MISCLASSIFICATION: 0.1 },
      detentionSec: 0.5,
    })
    expect(stats.enterprises).toBe(8)
    expect(stats.rulesActive).toBeGreaterThanOrEqual(2)
    expect(stats.submitted).toBeGreaterThanOrEqual(120)
    expect(stats.refused).toBe(0)
    expect(stats.httpErrors).toBe(0)
    expect(stats.accepted).toBe(stats.submitted)
    const rows = await countRows(t.db, 'declarations')
    expect(rows).toBe(stats.accepted)
    expect(await countRows(t.db, 'inspections', `state = 'DONE'`)).toBeGreaterThan(0)
    expect(stats.inspected).toBe(await countRows(t.db, 'inspections', `state = 'DONE'`))
    expect(stats.byLane.YELLOW + stats.byLane.RED).toBeGreaterThan(0)
    expect(stats.heldForReview).toBeGreaterThan(0)
    expect(stats.reviewed).toBe(stats.heldForReview)
    // The wind-down finishes the officers' work: nothing is left open or detained.
    expect(await countRows(t.db, 'inspections', `state <> 'DONE'`)).toBe(0)
    expect(await countRows(t.db, 'declarations', `state in ('SUBMITTED', 'INSPECTING', 'DETAINED')`)).toBe(0)
    expect(stats.releasedFromDetention).toBe(
      await countRows(t.db, 'inspections', `disposal in ('TECHNICAL_TREATMENT', 'CASE_OPENED', 'DESTROY')`),
    )
    expect((await verifyAudit(t.db)).problems).toEqual([])
    expect(logs.at(-1)).toMatch(/^simulator: done/)
  })

  it('declares for the demo enterprise with the card of a key file it writes once and reuses, renewing only the card number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kouan-demo-card-'))
    const file = join(dir, 'demo-card.json')
    const seen: Array<{ cardNo: string; renewed: boolean }> = []
    const run = () =>
      runSimulation({
        baseUrl,
        officer,
        rate: 50,
        durationSec: 2,
        enterprises: 8,
        seed: 5,
        log: () => {},
        reference: ref,
        installRules: false,
        demoCardFile: file,
        onDemoCard: (c) => seen.push(c),
      })
    try {
      await run()
      const first = JSON.parse(readFileSync(file, 'utf8')) as DemoCard
      expect(statSync(file).mode & 0o777).toBe(0o600)
      expect(first).toMatchObject({
        alg: 'Ed25519',
        cardNo: expect.any(String),
        enterprise: { name: expect.any(String), customsCode: expect.any(String) },
      })
      expect(seen).toEqual([expect.objectContaining({ cardNo: first.cardNo, renewed: false })])
      // What a person does with the file: log in with the card (challenge signed with the file's key).
      const ch = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/challenge',
        payload: { cardNo: first.cardNo },
      })
      const login = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/card-login',
        payload: {
          challengeId: ch.json().challengeId,
          signature: ed25519.sign(first.privateKey, Buffer.from(ch.json().challenge)),
        },
      })
      expect(login.statusCode).toBe(200)
      const filed = `select count(*)::int as n from declarations d join port_cards c on c.id = d.card_id where c.card_no = $1`
      expect((await t.db.query<{ n: number }>(filed, [first.cardNo!]))[0]!.n).toBeGreaterThan(0)
      // Started again: the same card, the file untouched.
      const text = readFileSync(file, 'utf8')
      await run()
      expect(readFileSync(file, 'utf8')).toBe(text)
      expect(seen.at(-1)).toEqual(expect.objectContaining({ cardNo: first.cardNo, renewed: false }))
      // A card this database does not know (as after a new database): a new card for the same key, and it says so.
      writeFileSync(file, JSON.stringify({ ...first, cardNo: 'NOSUCHCARD0000' }))
      await run()
      const renewed = JSON.parse(readFileSync(file, 'utf8')) as DemoCard
      expect(renewed).toMatchObject({ publicKey: first.publicKey, privateKey: first.privateKey })
      expect(renewed.cardNo).not.toBe(first.cardNo)
      expect(seen.at(-1)).toEqual(expect.objectContaining({ cardNo: renewed.cardNo, renewed: true }))
      // A file that is not a key file is never replaced: the simulator refuses it.
      writeFileSync(file, '{"alg":"Ed25519","publicKey":"x","privateKey":"y"}')
      expect(() => readDemoCard(file)).toThrow(/not a demo card key file/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('with --no-simulate (demoOnly) sets up the demo enterprise and its card alone, and files nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kouan-demo-only-'))
    const file = join(dir, 'demo-card.json')
    const [enterprises, declarations] = [await countRows(t.db, 'enterprises'), await countRows(t.db, 'declarations')]
    try {
      const seen: string[] = []
      const stats = await runSimulation({
        baseUrl,
        officer,
        rate: 50,
        enterprises: 8,
        seed: 17,
        log: () => {},
        reference: ref,
        demoOnly: true,
        demoCardFile: file,
        onDemoCard: (c) => seen.push(c.customsCode),
      })
      expect(stats.submitted).toBe(0)
      expect(await countRows(t.db, 'declarations')).toBe(declarations)
      expect(await countRows(t.db, 'enterprises')).toBe(enterprises + 1)
      const card = JSON.parse(readFileSync(file, 'utf8')) as DemoCard
      expect(seen).toEqual([card.enterprise!.customsCode])
      expect(await countRows(t.db, 'port_cards', `card_no = '${card.cardNo}' and status = 'ACTIVE'`)).toBe(1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('for kouan start: closes released goods (their archives follow) and checks the documents of quarantine imports', async () => {
    const stats = await runSimulation({
      baseUrl,
      officer,
      officer2,
      rate: 50,
      durationSec: 3,
      enterprises: 8,
      seed: 24,
      log: () => {},
      reference: ref,
      clearAfterSec: 0,
      quarantineChecks: true,
    })
    expect(stats.httpErrors).toBe(0)
    // Officers closed what intake did not (processing trade; general trade closes on release), the last at the wind-down.
    expect(await countRows(t.db, 'declarations', `state in ('RELEASED', 'RETURNED')`)).toBe(0)
    expect(stats.cleared).toBe(
      await countRows(t.db, 'audit_log', `action = 'DECLARATION_CLEARED' and actor like 'user:%'`),
    )
    expect(stats.cleared).toBeGreaterThan(0)
    await sweepArchives({ ...t.app.kouan, clock: t.clock, ids: systemIds })
    expect(await countRows(t.db, 'archives')).toBe(await countRows(t.db, 'declarations', `state = 'CLEARED'`))
    const [rule] = await t.db.query<{ active: boolean; action: { lane: string } }>(
      `select active, action from selectivity_rules where name = 'sim-24-quarantine-documents'`,
    )
    expect(rule).toMatchObject({ active: true, action: { lane: 'YELLOW' } })
  })

  it('re-runs with the same seed (enterprises and rules exist) in batches, and stops on abort', async () => {
    const ctl = new AbortController()
    const before = await countRows(t.db, 'declarations')
    // Stopped once its first batch is in (not after a fixed time: setting up takes longer on a busy machine).
    const stopOnFirstBatch = (async () => {
      while (!ctl.signal.aborted && (await countRows(t.db, 'declarations')) === before)
        await new Promise((r) => setTimeout(r, 100))
      ctl.abort()
    })()
    const stats = await runSimulation({
      baseUrl,
      officer,
      officer2,
      rate: 40,
      enterprises: 8,
      seed: 5,
      batch: true,
      signal: ctl.signal,
      log: () => {},
      reference: ref,
    })
    ctl.abort()
    await stopOnFirstBatch
    expect(stats.enterprises).toBe(8)
    expect(stats.rulesActive).toBeGreaterThanOrEqual(2)
    expect(stats.duplicates).toBe(0)
    expect(stats.refused).toBe(0)
    expect(stats.accepted).toBeGreaterThan(0)
    expect(await countRows(t.db, 'declarations')).toBe(before + stats.accepted)
    expect((await verifyAudit(t.db)).problems).toEqual([])
  })

  it('refuses to start with bad officer credentials', async () => {
    await expect(
      runSimulation({
        baseUrl,
        officer: { username: 'nobody', password: 'x' },
        rate: 1,
        durationSec: 1,
        log: () => {},
        reference: ref,
      }),
    ).rejects.toThrow(/refused/)
  })
})

describe('simulation against a failing server', () => {
  it('counts failed calls instead of throwing, and still stops on time', async () => {
    let n = 0
    const server = createServer((req, res) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      }
      let raw = ''
      req.on('data', (c: Buffer) => {
        raw += c.toString()
      })
      req.on('end', () => {
        const body = raw ? (JSON.parse(raw) as Record<string, string>) : {}
        const url = req.url ?? ''
        if (url === '/api/v1/auth/login' || url === '/api/v1/auth/card-login') return reply(200, { token: 'tok' })
        if (url === '/api/v1/auth/challenge') return reply(200, { challengeId: randomUUID(), challenge: 'c' })
        if (url === '/api/v1/enterprises')
          return reply(201, { id: randomUUID(), customsCode: body.customsCode, uscc: body.uscc })
        if (url === '/api/v1/cards') return reply(201, { id: randomUUID(), cardNo: `EP${++n}` })
        if (url === '/api/v1/declarations')
          return ++n % 2 ? req.socket.destroy() : reply(500, { code: 'INTERNAL', message: 'boom' })
        return reply(503, { code: 'UNAVAILABLE', message: 'down' })
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as { port: number }).port
    try {
      const started = Date.now()
      const stats = await runSimulation({
        baseUrl: `http://127.0.0.1:${port}`,
        officer: { username: 'a', password: 'b' },
        rate: 20,
        durationSec: 1.5,
        enterprises: 5,
        log: () => {},
        reference: ref,
      })
      expect(Date.now() - started).toBeLessThan(15_000)
      expect(stats.submitted).toBeGreaterThan(10)
      expect(stats.accepted).toBe(0)
      expect(stats.httpErrors).toBeGreaterThanOrEqual(stats.submitted)
    } finally {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  })
})
