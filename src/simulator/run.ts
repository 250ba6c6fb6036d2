/**
 * Live traffic simulator: drives a running Kouan server over HTTP like a port would. Enterprises are
 * registered and given port cards, operators sign and submit declarations at a steady rate, and officers
 * work the inspection queue with results that follow the hidden truth of each declaration.
 *
 * Robust by design: a failed HTTP call is counted and skipped, never thrown; the run stops on `signal` or at
 * the end of `durationSec`; the hidden truth is kept only for declarations still in progress.
 */
import { createPrivateKey, randomBytes, sign as cryptoSign } from 'node:crypto'
import { seededRandom } from '../shared/clock.js'
import { canonicalJson, ed25519 } from '../shared/signing.js'
import { loadReference, type Reference } from '../modules/reference/index.js'
import type { Declaration, Lane, SubmitDeclaration } from '../modules/declarations/index.js'
import type { Enterprise } from '../modules/enterprises/index.js'
import type { Inspection } from '../modules/inspections/index.js'
import type { CreateRule, Rule } from '../modules/selectivity/index.js'
import { Http, Session, cardLogin, passwordLogin, pause, type Credentials, type ErrorBody, type Res } from './http.js'
import {
  generateDeclaration,
  officerResult,
  type FraudRates,
  type GeneratedDeclaration,
  type OfficerOptions,
  type Truth,
} from './generate.js'
import { generateWorld, hash32, pick, restrictWorld, type Rng, type SimEnterprise, type World } from './world.js'
import { readDemoCard, writeDemoCard, type DemoCard } from './demo-card.js'
import {
  AppointmentTraffic,
  emptyAppointmentStats,
  type AppointmentOptions,
  type AppointmentStats,
} from './appointments.js'

/** The demo card, ready to log in with: what `kouan start` prints, and what the CEB simulator's broker signs with. */
export interface DemoCardReady {
  file: string
  cardNo: string
  privateKey: string
  enterprise: string
  customsCode: string
  renewed: boolean
}

/** Password login of an officer or admin. */
export type { Credentials } from './http.js'

/** Options of {@link runSimulation}. */
export interface SimulationOptions {
  /**
   * Key file of the demo enterprise's port card (`kouan start`: `./data/demo-card.json`): created when missing (mode
   * 600), its key never replaced; the demo enterprise's declarations are signed with it.
   */
  demoCardFile?: string
  /** Called once the demo card can log in: what `kouan start` prints for a person. */
  onDemoCard?: (c: DemoCardReady) => void
  /** Only set up the demo enterprise and its card, then return (`kouan start --no-simulate`). */
  demoOnly?: boolean
  /** Server base URL, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string
  /** Officer who registers enterprises, issues cards, authors rules and works inspections. */
  officer: Credentials
  /** Second officer: activates the targeting rules (four eyes) and shares the inspection work. */
  officer2?: Credentials
  /** Declarations per second. */
  rate: number
  /** Seconds of submissions; undefined runs until `signal` aborts. */
  durationSec?: number
  /** Enterprises in the world (default 40). */
  enterprises?: number
  /** World and traffic seed (default 1). */
  seed?: number
  /** Submit through `POST /declarations/batch`, grouped per enterprise, once a second. */
  batch?: boolean
  signal?: AbortSignal
  log?: (msg: string) => void
  /** Fraud rates per kind (defaults in generate.ts). */
  rates?: Partial<FraudRates>
  officerBehaviour?: OfficerOptions
  /** Add the quarantine documents-check rule to the installed ones (`kouan start`: the demo's certificates). */
  quarantineChecks?: boolean
  /** Install targeting rules when `officer2` is given (default true). */
  installRules?: boolean
  /** Seconds a detained declaration waits before an officer releases it (default 5; cases 3×). */
  detentionSec?: number
  /**
   * Seconds after which officers close (结关) released and returned declarations, so archives (and the enterprise's
   * archive pages) fill; undefined: never (benchmarks measure intake alone).
   */
  clearAfterSec?: number
  /** Seconds a declaration held for review waits before an officer accepts it (default 1). */
  reviewDelaySec?: number
  /** Most concurrent submission requests (default 64). */
  maxInFlight?: number
  /** Seconds between progress lines; 0 = none (default 10). */
  statusEverySec?: number
  /** Timeout of one HTTP call, ms (default 30 000). */
  requestTimeoutMs?: number
  /** Most declarations whose truth is kept at once; the oldest are forgotten beyond (default 50 000). */
  maxTracked?: number
  reference?: Reference
  /**
   * Appointment clearance traffic (预约通关): bookings per minute, category mix, cancellation, reschedule and review
   * rates, delays, the clock of lead times (defaults in appointments.ts); false: none.
   */
  appointments?: AppointmentOptions | false
}

/** What a run did. `accepted` counts declarations the server created (201), held-for-review ones included. */
export interface SimStats {
  submitted: number
  accepted: number
  refused: number
  duplicates: number
  /** Failed calls: no answer, 5xx, or 4xx other than a refused declaration (counted in `refused`) or a 409 race. */
  httpErrors: number
  heldForReview: number
  /** Held declarations an officer accepted. */
  reviewed: number
  inspected: number
  nonCompliant: number
  /** Detained declarations released after disposal. */
  releasedFromDetention: number
  /** Released or returned declarations closed (结关), with `clearAfterSec`. */
  cleared: number
  byLane: Record<Lane, number>
  /** Of the accepted declarations: how many hid fraud, and how many of those an inspection caught. */
  fraudAccepted: number
  fraudInspected: number
  fraudCaught: number
  /** Declarations whose truth was dropped to bound memory before they finished. */
  truthForgotten: number
  /** Declarations not sent because the server could not keep up with the rate. */
  skipped: number
  enterprises: number
  rulesActive: number
  /** Appointment clearance bookings and what became of them. */
  appointments: AppointmentStats
  elapsedSec: number
}

/** Tracked declaration in progress. */
interface Pending {
  truth: Truth
  stage: 'REVIEW' | 'INSPECT' | 'DETAINED'
  at: number
  releaseAt?: number
  tries: number
}

const LANE_KEYS: Lane[] = ['GREEN', 'BLUE', 'YELLOW', 'RED']
const SURNAMES = [
  'Wang',
  'Li',
  'Zhang',
  'Liu',
  'Chen',
  'Yang',
  'Huang',
  'Zhao',
  'Wu',
  'Zhou',
  'Xu',
  'Sun',
  'Ma',
  'Zhu',
  'Hu',
  'Guo',
]
const GIVEN = [
  'Wei',
  'Fang',
  'Min',
  'Jing',
  'Lei',
  'Jun',
  'Yan',
  'Hui',
  'Qiang',
  'Ping',
  'Li',
  'Na',
  'Tao',
  'Ming',
  'Xia',
  'Hong',
]

/** Runs `fn` over `xs` with at most `limit` calls at a time. */
async function mapLimit<T>(xs: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < xs.length) await fn(xs[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, xs.length) }, worker))
}

/**
 * Signs declaration content with a card key: the same signature as `signPayload(privateKey, content)`
 * (Ed25519 is deterministic), with the key object built once instead of per signature, which is what lets
 * the simulator sign thousands of declarations a second.
 */
export function cardSigner(privateKey: string, publicKey: string): (content: unknown) => string {
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: privateKey, x: publicKey }, format: 'jwk' })
  return (content) => cryptoSign(null, Buffer.from(canonicalJson(content), 'utf8'), key).toString('base64url')
}

/** An enterprise ready to declare: its server record and its operator's card. */
interface Operator {
  sim: SimEnterprise
  enterpriseId: string
  cardNo: string
  sign: (content: unknown) => string
  session: Session
  /** The demo enterprise (its card is the key file a person logs in with). */
  demo: boolean
}

/**
 * Targeting rules the simulation installs: credit list, risky chapters, value bands of the most traded lines; with
 * `quarantine`, a documents check of imports under quarantine (HS chapters 1-24), which certifies the compliant ones.
 */
export function simulationRules(world: World, o: { quarantine?: boolean } = {}): CreateRule[] {
  const rules: CreateRule[] = [
    {
      name: `sim-${world.seed}-dishonest-yellow`,
      description: 'Simulator: documents check for every declaration of a dishonest trader',
      conditions: [{ field: 'traderCredit', op: 'in', value: ['DISHONEST'] }],
      action: { lane: 'YELLOW', reason: 'dishonest trader' },
    },
  ]
  if (world.riskyChapters.length) {
    rules.push({
      name: `sim-${world.seed}-hs-risk`,
      description: `Simulator: chapters ${world.riskyChapters.join(', ')} carry the most fraud in this world`,
      conditions: [{ field: 'hsCode', op: 'prefix', value: [...world.riskyChapters] }],
      action: { score: 35, reason: 'high-risk HS chapter' },
    })
  }
  for (const code of world.topLines) {
    const line = world.model.line(code)
    if (!line) continue
    // Honest prices stay above 70% of the reference; 62% leaves room for exchange-rate drift.
    const floorCny = Math.round(line.priceUsd * 7.1 * 0.62 * 10_000) / 10_000
    rules.push({
      name: `sim-${world.seed}-value-${code}`,
      description: `Simulator: value control for ${code} (${line.description.slice(0, 60)})`,
      conditions: [
        { field: 'hsCode', op: 'prefix', value: [code] },
        { field: 'unitValueCny', op: 'lt', value: floorCny },
      ],
      action: { lane: 'RED', reason: `unit value below ${floorCny} CNY` },
    })
  }
  if (o.quarantine)
    rules.push({
      name: `sim-${world.seed}-quarantine-documents`,
      description: 'Simulator: documents check of imported animal and plant products and foodstuffs (HS 01-24)',
      conditions: [
        { field: 'ieFlag', op: 'eq', value: 'I' },
        { field: 'hsCode', op: 'prefix', value: Array.from({ length: 24 }, (_, i) => String(i + 1).padStart(2, '0')) },
      ],
      action: { lane: 'YELLOW', reason: '进境动植物及食品检疫审单' },
    })
  return rules
}

const emptyStats = (): SimStats => ({
  submitted: 0,
  accepted: 0,
  refused: 0,
  duplicates: 0,
  httpErrors: 0,
  heldForReview: 0,
  reviewed: 0,
  inspected: 0,
  nonCompliant: 0,
  releasedFromDetention: 0,
  cleared: 0,
  byLane: { GREEN: 0, BLUE: 0, YELLOW: 0, RED: 0 },
  fraudAccepted: 0,
  fraudInspected: 0,
  fraudCaught: 0,
  truthForgotten: 0,
  skipped: 0,
  enterprises: 0,
  rulesActive: 0,
  appointments: emptyAppointmentStats(),
  elapsedSec: 0,
})

/**
 * Runs the simulation against a live server until `durationSec` elapses or `signal` aborts, then returns
 * (and logs) the statistics. Throws only when the run cannot start: officer login refused, or the server
 * unreachable for 60 s. Re-runs with the same seed reuse the enterprises (409 ENTERPRISE_EXISTS) and rules
 * (409 RULE_EXISTS); client references carry the seed and a random run id, so they never collide.
 */
export async function runSimulation(opts: SimulationOptions): Promise<SimStats> {
  if (!(opts.rate > 0)) throw new RangeError(`rate must be positive, got ${opts.rate}`)
  const log = opts.log ?? ((m: string) => console.log(m))
  const seed = opts.seed ?? 1
  const stats = emptyStats()
  const stop = opts.signal ?? new AbortController().signal
  const hard = new AbortController()
  const onStop = () => setTimeout(() => hard.abort(), 2000).unref()
  stop.addEventListener('abort', onStop, { once: true })
  const http = new Http(opts.baseUrl.replace(/\/+$/, ''), hard.signal, opts.requestTimeoutMs ?? 30_000)
  const t0 = performance.now()
  const seconds = () => (performance.now() - t0) / 1000
  const reported = new Set<string>()
  const note = (what: string, r: Res<unknown>) => {
    const key = `${what}:${r.code ?? r.status}`
    if (!reported.has(key) && reported.size < 50) {
      reported.add(key)
      log(`simulator: ${what} failed: ${r.status} ${r.code ?? ''} ${r.message ?? ''}`.trim())
    }
  }
  /** Counts and reports (once per kind) a failed call; 409 is another officer having been quicker, not an error. */
  const fail = (what: string, r: Res<unknown>) => {
    if (r.code === 'STOPPED') return
    if (r.status !== 409) stats.httpErrors++
    note(what, r)
  }

  try {
    // --- Set-up -------------------------------------------------------------------------------------------
    const officers = [new Session(http, passwordLogin(opts.officer))]
    if (opts.officer2) officers.push(new Session(http, passwordLogin(opts.officer2)))
    for (const [i, s] of officers.entries()) {
      for (;;) {
        if (stop.aborted) return finish()
        const r = await s.ensure()
        if (s.token) break
        if (r.status === 401 || r.status === 400)
          throw new Error(`simulator: login of ${i === 0 ? 'officer' : 'officer2'} refused: ${r.code ?? r.status}`)
        if (seconds() > 60)
          throw new Error(`simulator: server at ${opts.baseUrl} unreachable: ${r.message ?? r.status}`)
        await pause(500, stop)
      }
    }
    const officer = officers[0]!

    const ref = opts.reference ?? loadReference()
    const world = generateWorld(ref, { seed, enterprises: opts.enterprises ?? 40 })
    const operators: Operator[] = []
    // The demo enterprise declares with the card of the key file a person logs in with: a regular trader, one that
    // imports goods under quarantine (HS chapters 1-24) if the world has one, so its portal gets certificates too.
    const regular = world.enterprises.filter((e) => e.creditLevel === 'REGULAR')
    const demoSim = opts.demoCardFile
      ? (regular.find((e) => e.chapters.some((c) => c <= '24')) ?? regular[0] ?? world.enterprises[0])
      : undefined
    const demo = opts.demoCardFile && demoSim ? readDemoCard(opts.demoCardFile) : undefined
    await mapLimit(world.enterprises, 8, async (sim) => {
      if (stop.aborted || (opts.demoOnly && sim !== demoSim)) return
      const ent = await registerEnterprise(sim)
      if (!ent || stop.aborted) return
      const isDemo = demo !== undefined && sim === demoSim
      const keys = isDemo ? demo.card : ed25519.generate()
      // A demo card from an earlier start is reused when this database knows it; else a card is issued for its key.
      let cardNo = isDemo ? demo.card.cardNo : undefined
      let session = cardNo ? new Session(http, cardLogin(cardNo, keys.privateKey)) : undefined
      if (session) {
        await session.ensure()
        if (!session.token) session = undefined
      }
      if (!session) {
        const nameRng = seededRandom(hash32(`operator:${seed}:${sim.index}`))
        const card = await officer.call<{ id: string; cardNo: string }>('POST', '/api/v1/cards', {
          enterpriseId: ent.id,
          operatorName: isDemo ? 'Demo operator' : `${pick(nameRng, SURNAMES)} ${pick(nameRng, GIVEN)}`,
          publicKey: keys.publicKey,
        })
        if (card.status !== 201 || !card.body) return fail('card issue', card)
        cardNo = card.body.cardNo
        session = new Session(http, cardLogin(cardNo, keys.privateKey))
        const login = await session.ensure()
        if (!session.token) return fail('card login', login)
      }
      if (isDemo) {
        const renumbered = cardNo !== demo.card.cardNo
        const card: DemoCard = {
          ...demo.card,
          cardNo: cardNo!,
          enterprise: { name: ent.name, customsCode: ent.customsCode },
        }
        if (renumbered || !demo.existed) writeDemoCard(opts.demoCardFile!, card, demo.existed)
        opts.onDemoCard?.({
          file: opts.demoCardFile!,
          cardNo: cardNo!,
          privateKey: keys.privateKey,
          enterprise: ent.name,
          customsCode: ent.customsCode,
          renewed: demo.existed && renumbered,
        })
      }
      operators.push({
        // The demo enterprise trades as much as the busiest, so its portal has content within the first minute.
        sim: {
          ...sim,
          customsCode: ent.customsCode,
          ...(isDemo ? { activity: Math.max(...world.enterprises.map((e) => e.activity)) } : {}),
        },
        enterpriseId: ent.id,
        cardNo: cardNo!,
        sign: cardSigner(keys.privateKey, keys.publicKey),
        session,
        demo: isDemo,
      })
    })
    async function registerEnterprise(sim: SimEnterprise): Promise<Enterprise | undefined> {
      const body = {
        uscc: sim.uscc,
        customsCode: sim.customsCode,
        name: sim.name,
        creditLevel: sim.creditLevel,
        registeredDistrict: sim.registeredDistrict,
      }
      const r = await officer.call<Enterprise>('POST', '/api/v1/enterprises', body)
      if (r.status === 201 && r.body) return r.body
      if (r.status !== 409) {
        fail('enterprise registration', r)
        return undefined
      }
      for (const [q, match] of [
        [sim.customsCode, (e: Enterprise) => e.customsCode === sim.customsCode],
        [sim.uscc, (e: Enterprise) => e.uscc === sim.uscc],
      ] as const) {
        const found = await officer.call<{ items: Enterprise[] }>(
          'GET',
          `/api/v1/enterprises?q=${encodeURIComponent(q)}&limit=10`,
        )
        const e = found.body?.items.find(match)
        if (e) return e
        if (found.status !== 200) fail('enterprise lookup', found)
      }
      return undefined
    }
    if (stop.aborted || opts.demoOnly) return finish()
    operators.sort((a, b) => a.sim.index - b.sim.index)
    stats.enterprises = operators.length
    if (operators.length === 0) {
      log('simulator: no enterprise could be set up; stopping')
      return finish()
    }
    const live = restrictWorld(
      world,
      operators.map((o) => o.sim),
    )
    const operatorOf = new Map(operators.map((o) => [o.sim.index, o]))

    if (opts.officer2 && opts.installRules !== false)
      stats.rulesActive = await installRules(simulationRules(world, { quarantine: opts.quarantineChecks === true }))
    async function installRules(rules: CreateRule[]): Promise<number> {
      const [author, checker] = [officers[0]!, officers[1]!]
      let active = 0
      let existing: Rule[] | undefined
      for (const rule of rules) {
        if (stop.aborted) break
        const r = await author.call<Rule>('POST', '/api/v1/selectivity/rules', rule)
        let id = r.body?.id
        let isActive = false
        let authoredBy2 = false
        if (r.status === 409) {
          existing ??= (await author.call<{ items: Rule[] }>('GET', '/api/v1/selectivity/rules')).body?.items ?? []
          const found = existing.find((x) => x.name === rule.name)
          id = found?.id
          isActive = !!found?.active
          authoredBy2 = found?.createdBy === `user:${opts.officer2!.username}`
        } else if (r.status !== 201) {
          fail('rule creation', r)
          continue
        }
        if (!id) continue
        if (!isActive) {
          const a = await (authoredBy2 ? author : checker).call<Rule>(
            'POST',
            `/api/v1/selectivity/rules/${id}/activate`,
            undefined,
          )
          if (a.status === 200 || a.code === 'RULE_STATE_UNCHANGED') isActive = true
          else fail('rule activation', a)
        }
        if (isActive) active++
      }
      return active
    }
    log(
      `simulator: ${operators.length} enterprises ready, ${stats.rulesActive} targeting rules active; submitting ${opts.rate}/s${opts.batch ? ' in batches' : ''}`,
    )

    // --- Traffic ------------------------------------------------------------------------------------------
    const runId = randomBytes(4).toString('hex')
    const rng: Rng = seededRandom(hash32(`traffic:${seed}:${runId}`))
    const officerRng: Rng = seededRandom(hash32(`officer:${seed}:${runId}`))
    const pending = new Map<string, Pending>()
    const maxTracked = opts.maxTracked ?? 50_000
    const track = (id: string, p: Pending) => {
      pending.delete(id)
      pending.set(id, p)
      while (pending.size > maxTracked) {
        pending.delete(pending.keys().next().value!)
        stats.truthForgotten++
      }
    }
    let seq = 0
    const nextDeclaration = (): GeneratedDeclaration =>
      generateDeclaration(live, rng, {
        clientRef: `SIM${seed}-${runId}-${++seq}`,
        ...(opts.rates ? { rates: opts.rates } : {}),
      })
    const sign = (g: GeneratedDeclaration): SubmitDeclaration => {
      const op = operatorOf.get(g.enterprise.index)!
      return { ...g.content, signature: { cardNo: op.cardNo, alg: 'Ed25519', value: op.sign(g.content) } }
    }
    const onCreated = (g: GeneratedDeclaration, d: Declaration) => {
      stats.accepted++
      if (g.truth.fraud) stats.fraudAccepted++
      if (d.state === 'SUBMITTED') {
        stats.heldForReview++
        track(d.id, { truth: g.truth, stage: 'REVIEW', at: performance.now(), tries: 0 })
        return
      }
      routed(d, g.truth)
    }
    const routed = (d: Declaration, truth: Truth) => {
      if (d.lane) stats.byLane[d.lane]++
      if (d.state === 'INSPECTING') track(d.id, { truth, stage: 'INSPECT', at: performance.now(), tries: 0 })
      else pending.delete(d.id)
    }
    const onResult = (g: GeneratedDeclaration, r: Res<Declaration>) => {
      if (r.status === 201 && r.body) onCreated(g, r.body)
      else if (r.status === 200) stats.duplicates++
      else if (r.status >= 400 && r.status < 500) {
        stats.refused++
        note('declaration', r)
      } else fail('declaration', r)
    }

    let inFlight = 0
    const inflight = new Set<Promise<void>>()
    const launch = (p: Promise<void>) => {
      inFlight++
      const q = p.finally(() => {
        inFlight--
        inflight.delete(q)
      })
      inflight.add(q)
    }
    const submitOne = (g: GeneratedDeclaration) =>
      launch(
        (async () => {
          const op = operatorOf.get(g.enterprise.index)!
          stats.submitted++
          onResult(g, await op.session.call<Declaration>('POST', '/api/v1/declarations', sign(g)))
        })(),
      )
    const submitBatch = (op: Operator, gs: GeneratedDeclaration[]) =>
      launch(
        (async () => {
          stats.submitted += gs.length
          const r = await op.session.call<{
            results: Array<{ index: number; status: number; declaration?: Declaration; errors?: ErrorBody['errors'] }>
          }>('POST', '/api/v1/declarations/batch', { declarations: gs.map(sign) })
          if (r.status !== 200 || !r.body) {
            if (r.status >= 400 && r.status < 500) {
              stats.refused += gs.length
              return note('batch', r)
            }
            return fail('batch', r)
          }
          for (const x of r.body.results) {
            const g = gs[x.index]
            if (!g) continue
            const e = x.errors?.[0]
            onResult(g, {
              status: x.status,
              body: x.declaration,
              ...(e ? { code: e.code, message: `${e.message} at ${e.pointer}` } : {}),
            })
          }
        })(),
      )

    // Officers: every second, accept held declarations, work inspections, release detained goods.
    const detentionMs = (opts.detentionSec ?? 5) * 1000
    const reviewMs = (opts.reviewDelaySec ?? 1) * 1000
    let turn = 0
    const nextOfficer = () => officers[turn++ % officers.length]!
    /** One round of officer work; `final` ignores review and detention delays (the wind-down clears the desk). */
    async function officerPass(final = false): Promise<void> {
      const now = final ? Infinity : performance.now()
      const review: string[] = []
      const detained: string[] = []
      const inspecting: string[] = []
      for (const [id, p] of pending) {
        if (p.stage === 'REVIEW' && now - p.at >= reviewMs) review.push(id)
        else if (p.stage === 'DETAINED' && now >= (p.releaseAt ?? 0)) detained.push(id)
        else if (p.stage === 'INSPECT') inspecting.push(id)
      }
      await mapLimit(review.slice(0, 200), 8, async (id) => {
        const p = pending.get(id)
        if (!p || stop.aborted) return
        const r = await nextOfficer().call<Declaration>('POST', `/api/v1/declarations/${id}/accept`, undefined)
        if (r.status === 200 && r.body) {
          stats.reviewed++
          routed(r.body, p.truth)
        } else {
          fail('review acceptance', r)
          if (r.status === 409 || r.status === 404 || ++p.tries >= 3) pending.delete(id)
        }
      })

      // Open tasks of our declarations: the first page of the queue, then direct look-ups for ours not on it.
      const tasks = new Map<string, Inspection>()
      const limit = Math.min(500, Math.max(100, inspecting.length))
      const list = await officer.call<{ items: Inspection[] }>('GET', `/api/v1/inspections?state=OPEN&limit=${limit}`)
      if (list.status !== 200) fail('inspection queue', list)
      for (const t of list.body?.items ?? [])
        if (pending.get(t.declarationId)?.stage === 'INSPECT') tasks.set(t.declarationId, t)
      const missing = inspecting.filter((id) => !tasks.has(id)).slice(0, 100)
      await mapLimit(missing, 8, async (id) => {
        if (stop.aborted) return
        const r = await officer.call<{ items: Inspection[] }>('GET', `/api/v1/inspections?declarationId=${id}&limit=5`)
        if (r.status !== 200 || !r.body) return fail('inspection look-up', r)
        const open = r.body.items.find((t) => t.state === 'OPEN')
        if (open) tasks.set(id, open)
        else if (r.body.items.length && r.body.items.every((t) => t.state === 'DONE')) pending.delete(id) // worked by someone else
      })
      await mapLimit([...tasks.values()], 8, async (task) => {
        const p = pending.get(task.declarationId)
        if (!p || stop.aborted) return
        const who = nextOfficer()
        const s = await who.call<Inspection>('POST', `/api/v1/inspections/${task.id}/start`, undefined)
        if (s.status !== 200) {
          fail('inspection start', s)
          if (s.status === 409 || s.status === 404) pending.delete(task.declarationId)
          return
        }
        const result = officerResult(p.truth, officerRng, task.kind, opts.officerBehaviour)
        const r = await who.call<Inspection>('POST', `/api/v1/inspections/${task.id}/result`, result)
        if (r.status !== 200) {
          fail('inspection result', r)
          if (r.status === 409 || r.status === 404 || r.status === 422) pending.delete(task.declarationId)
          return
        }
        stats.inspected++
        if (p.truth.fraud) stats.fraudInspected++
        if (result.result === 'NON_COMPLIANT') {
          stats.nonCompliant++
          if (p.truth.fraud && result.findings.some((f) => f.category !== 'QUALITY_SAFETY')) stats.fraudCaught++
        }
        const d = result.disposal ?? 'RELEASE'
        if (d === 'RELEASE' || d === 'RETURN') pending.delete(task.declarationId)
        else
          track(task.declarationId, {
            ...p,
            stage: 'DETAINED',
            at: performance.now(),
            releaseAt: performance.now() + (d === 'CASE_OPENED' ? 3 : 1) * detentionMs,
            tries: 0,
          })
      })

      await mapLimit(detained.slice(0, 200), 8, async (id) => {
        const p = pending.get(id)
        if (!p || stop.aborted) return
        const r = await nextOfficer().call<Declaration>('POST', `/api/v1/declarations/${id}/release`, {
          note: 'released after disposal (simulator)',
        })
        if (r.status === 200) {
          stats.releasedFromDetention++
          pending.delete(id)
        } else {
          fail('release', r)
          if (r.status === 409 || r.status === 404 || ++p.tries >= 3) pending.delete(id)
        }
      })
      if (opts.clearAfterSec !== undefined && !final) await clearPass(opts.clearAfterSec, false)
    }

    /**
     * Officers close what has been out of customs' hands for `afterSec`: released and returned declarations submitted
     * that long ago (found ones were released before), at most 100 of each state per round, every 5 s at most; the
     * wind-down's rounds close all.
     */
    let lastClear = 0
    async function clearPass(afterSec: number, final: boolean): Promise<void> {
      if (!final && performance.now() - lastClear < Math.min(5, afterSec) * 1000) return
      lastClear = performance.now()
      const to = new Date(Date.now() - afterSec * 1000).toISOString()
      for (const state of ['RELEASED', 'RETURNED'] as const) {
        const list = await officer.call<{ items: Array<{ id: string }> }>(
          'GET',
          `/api/v1/declarations?state=${state}&to=${encodeURIComponent(to)}&limit=100`,
        )
        if (list.status !== 200 || !list.body) return fail('cleared look-up', list)
        await mapLimit(list.body.items, 4, async (d) => {
          if (stop.aborted) return
          const r = await nextOfficer().call<Declaration>('POST', `/api/v1/declarations/${d.id}/clear`, {
            note: 'goods left the supervised area (simulator)',
          })
          if (r.status === 200) stats.cleared++
          else if (r.status !== 409) fail('clear', r)
        })
      }
    }

    let officerBusy: Promise<void> | undefined
    let lastOfficer = 0
    let lastStatus = 0
    const statusEvery = (opts.statusEverySec ?? 10) * 1000
    const maxInFlight = Math.max(1, opts.maxInFlight ?? 64)
    const tickMs = opts.batch ? 1000 : Math.max(5, Math.min(100, 1000 / opts.rate))
    const start = performance.now()
    const end = opts.durationSec !== undefined ? start + opts.durationSec * 1000 : Infinity
    let scheduled = 0
    // Appointment clearance traffic runs beside the declarations, on its own seeded randomness.
    const appointments =
      opts.appointments === false
        ? undefined
        : new AppointmentTraffic(
            {
              officer,
              parties: operators,
              model: world.model,
              rng: seededRandom(hash32(`appointments:${seed}:${runId}`)),
              refPrefix: `SIM${seed}-${runId}`,
              stats: stats.appointments,
              fail,
              note,
              log,
            },
            opts.appointments ?? {},
          )
    const appointmentRun = appointments
      ?.start()
      .then(async (ok) => {
        if (ok) await appointments.run(stop, end)
        return ok
      })
      .catch((e: unknown) => {
        log(`simulator: appointment traffic failed: ${String(e)}`)
        return false
      })
    while (!stop.aborted) {
      const now = performance.now()
      if (now >= end) break
      let due = Math.floor(((now - start) / 1000) * opts.rate) - scheduled
      // Never build a backlog of more than two seconds: what the server cannot take is skipped.
      const maxBacklog = Math.max(1, Math.ceil(opts.rate * 2))
      if (due > maxBacklog) {
        stats.skipped += due - maxBacklog
        scheduled += due - maxBacklog
        due = maxBacklog
      }
      if (opts.batch) {
        const groups = new Map<number, GeneratedDeclaration[]>()
        for (; due > 0 && inFlight < maxInFlight; due--, scheduled++) {
          const g = nextDeclaration()
          const list = groups.get(g.enterprise.index) ?? []
          list.push(g)
          groups.set(g.enterprise.index, list)
          if (list.length === 500) {
            submitBatch(operatorOf.get(g.enterprise.index)!, list)
            groups.delete(g.enterprise.index)
          }
        }
        for (const [index, gs] of groups) submitBatch(operatorOf.get(index)!, gs)
      } else {
        for (; due > 0 && inFlight < maxInFlight; due--, scheduled++) submitOne(nextDeclaration())
      }
      if (now - lastOfficer >= 1000 && !officerBusy) {
        lastOfficer = now
        officerBusy = officerPass()
          .catch((e: unknown) => log(`simulator: officer pass failed: ${String(e)}`))
          .finally(() => {
            officerBusy = undefined
          })
      }
      if (statusEvery > 0 && now - lastStatus >= statusEvery && now > start) {
        lastStatus = now
        if (now - start > 1000) log(`simulator: ${progress()}`)
      }
      await pause(Math.min(tickMs, end - performance.now()), stop)
    }

    // --- Wind-down: let requests in flight finish, then one last officer round (unless stopped) --------------
    await Promise.race([Promise.allSettled([...inflight]), pause(stop.aborted ? 2000 : 10_000, hard.signal)])
    if (officerBusy) await officerBusy
    // Held declarations accepted in the last round may still need inspection, detained ones release: a few rounds.
    const windDownEnd = performance.now() + 10_000
    for (let round = 0; round < 4 && pending.size > 0 && !stop.aborted && performance.now() < windDownEnd; round++) {
      await officerPass(true).catch((e: unknown) => log(`simulator: officer pass failed: ${String(e)}`))
    }
    if ((await appointmentRun) && !stop.aborted)
      await appointments!.windDown().catch((e: unknown) => log(`simulator: appointment wind-down failed: ${String(e)}`))
    if (opts.clearAfterSec !== undefined && !stop.aborted)
      await clearPass(0, true).catch((e: unknown) => log(`simulator: clearance failed: ${String(e)}`))
    return finish()

    function progress() {
      const el = seconds()
      return (
        `${stats.submitted} submitted (${(stats.submitted / Math.max(1e-9, (performance.now() - start) / 1000)).toFixed(1)}/s), ${stats.accepted} accepted, ` +
        `${stats.refused} refused, ${stats.duplicates} duplicates, lanes ${LANE_KEYS.map((l) => `${l[0]}${stats.byLane[l]}`).join('/')}, ` +
        `${stats.inspected} inspected (${stats.nonCompliant} non-compliant), ${pending.size} in progress, ${stats.appointments.booked} appointments booked, ${stats.httpErrors} HTTP errors, ${el.toFixed(0)}s`
      )
    }
  } finally {
    stop.removeEventListener('abort', onStop)
    hard.abort()
  }

  function finish(): SimStats {
    stats.elapsedSec = Math.round(seconds() * 10) / 10
    log(`simulator: done ${JSON.stringify(stats)}`)
    return stats
  }
}
