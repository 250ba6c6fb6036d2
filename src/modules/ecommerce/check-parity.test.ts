/**
 * Parity of `kouan ceb check` with intake (issue 11 §2): for random sets of generated tickets — with and without planted
 * defects, buyers sharing a calendar year's limit on top of earlier totals, waybill numbers reused inside, at and after
 * the 6-month boundary (China dates, midnight included), documents that fail field checks (order number readable or
 * not), documents of a ticket arriving in shuffled order over days and across a year's end, later resends, changes,
 * deletions and new-again documents — `checkFiles` on the files
 * and intake on the same signed messages (HTTP, matching inline as `kouan serve` runs, the clock at each message's
 * appTime) give the same returnStatus and reason codes per order.
 *
 * The intake side is read as a platform sees it: the refusals in the answers to its messages (receipts with 100, and
 * CEB900 for a message that fails field checks, counted for the order the message was about when its order number can
 * be read) and the ticket's verdict (`ceb_tickets`: 800 released reads as the tool's 120). One database for the file;
 * runs are kept apart by their own document numbers and buyers, and each run's earlier annual totals are written to
 * `ceb_buyer_totals` (what intake counts) and given to the tool as `annualTotals`.
 *
 * Seeded: KOUAN_PARITY_SEED, KOUAN_PARITY_RUNS (default 12); KOUAN_PARITY_STATS=1 prints what the runs reached (answers
 * and reason codes per order).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fc } from '@fast-check/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { deterministicCebSetup, type CebParty } from '../../../test/factories.js'
import { seededRandom } from '../../shared/clock.js'
import {
  SUPPORTED_DEFECTS,
  baseTransferFor,
  generateTicket,
  toMessageXml,
  type GeneratedTicket,
  type Parties,
} from './generator.js'
import { checkFiles, type AnnualTotal } from './tools.js'
import type { CebDocuments, CebMessageType } from './types.js'
import { SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } from './xml.js'

const SEED = Number(process.env.KOUAN_PARITY_SEED ?? 20260511)
const RUNS = Number(process.env.KOUAN_PARITY_RUNS ?? 12)

const PARTIES: Parties = {
  ebp: '4601000EBP',
  ebc: '4601000EBC',
  pay: '4601000PAY',
  logistics: '4601000LOG',
  agent: '4601000AGT',
}
const SENDER: Record<CebMessageType, string> = {
  CEB311: PARTIES.ebc,
  CEB411: PARTIES.pay,
  CEB511: PARTIES.logistics,
  CEB621: PARTIES.agent,
}
const TYPES: CebMessageType[] = ['CEB311', 'CEB411', 'CEB511', 'CEB621']
const SLOT = { CEB311: 'order', CEB411: 'payment', CEB511: 'waybill', CEB621: 'inventory' } as const
/** A required head element of each type, left out by the `missing` breakage. */
const REQUIRED: Record<CebMessageType, string> = {
  CEB311: 'buyerName',
  CEB411: 'payerName',
  CEB511: 'weight',
  CEB621: 'grossWeight',
}
const DAY = 86_400_000
const START = Date.parse('2025-01-01T00:00:00+08:00')

// ---- scenario ---------------------------------------------------------------------------------------------------

type Gap = 'inside' | 'dayBefore' | 'boundary' | 'boundaryAfterMidnight' | 'after'
interface TicketPlan {
  gen: number
  mode: '1210' | '9610'
  defect: (typeof SUPPORTED_DEFECTS)[number] | null
  buyer: number
  /** Minutes after the run's start of the ticket's first document. */
  at: number
  /** Minutes after `at` of each document (CEB311, 411, 511, 621): their arrival order is shuffled by these. */
  offsets: [number, number, number, number]
  /** Reuse the waybill number of an earlier ticket, its waybill sent `gap` after that ticket's. */
  reuse: { of: number; gap: Gap; days: number } | null
  /** One document that fails field checks. */
  broken: { type: CebMessageType; how: 'missing' | 'long' | 'noOrderNo' } | null
  /**
   * A later message about one of the documents: the identical message again (at once), or `after` minutes after it a
   * change (appType 2), a deletion (appType 3) or a changed document as new again (appType 1).
   */
  followUp: { type: CebMessageType; kind: 'resend' | 'modify' | 'delete' | 'newAgain'; after: number } | null
}
interface Scenario {
  start: number
  tickets: TicketPlan[]
  seeds: Array<{ cents: number; nextYear: boolean } | null>
  /** Several documents per message. */
  batch: boolean
  /** Order of the files given to the tool, and which are JSON. */
  fileOrder: number
}

const minutes = (max: number) => fc.integer({ min: 0, max })
/** `arb` in `yes` of `yes + no` cases, else null. */
const sometimes = <T>(yes: number, no: number, arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: no, arbitrary: fc.constant(null) }, { weight: yes, arbitrary: arb })
const ticketPlan: fc.Arbitrary<TicketPlan> = fc.record({
  gen: fc.integer({ min: 1, max: 2 ** 30 }),
  mode: fc.constantFrom('1210' as const, '9610' as const),
  defect: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.constantFrom(...SUPPORTED_DEFECTS) },
  ),
  buyer: fc.nat({ max: 1 }),
  at: minutes(420 * 24 * 60),
  offsets: fc.tuple(minutes(3 * 24 * 60), minutes(3 * 24 * 60), minutes(3 * 24 * 60), minutes(3 * 24 * 60)),
  reuse: sometimes(
    1,
    3,
    fc.record({
      of: fc.nat(),
      gap: fc.constantFrom<Gap>('inside', 'dayBefore', 'boundary', 'boundaryAfterMidnight', 'after'),
      days: fc.integer({ min: 1, max: 120 }),
    }),
  ),
  broken: sometimes(
    1,
    6,
    fc.record({
      type: fc.constantFrom(...TYPES),
      how: fc.constantFrom('missing' as const, 'long' as const, 'noOrderNo' as const),
    }),
  ),
  followUp: sometimes(
    1,
    3,
    fc.record({
      type: fc.constantFrom(...TYPES),
      kind: fc.constantFrom('resend' as const, 'modify' as const, 'delete' as const, 'newAgain' as const),
      after: fc.integer({ min: 1, max: 400 * 24 * 60 }),
    }),
  ),
})
const scenario: fc.Arbitrary<Scenario> = fc.record({
  start: fc.integer({ min: 0, max: 300 }),
  tickets: fc.array(ticketPlan, { minLength: 2, maxLength: 7 }),
  seeds: fc.array(
    sometimes(2, 1, fc.record({ cents: fc.integer({ min: 2_100_000, max: 2_599_000 }), nextYear: fc.boolean() })),
    { minLength: 2, maxLength: 2 },
  ),
  batch: fc.boolean(),
  fileOrder: fc.integer({ min: 1, max: 2 ** 30 }),
})

/** China date `YYYY-MM-DD` plus `n` calendar months, the day clamped to the month's end (the window's boundary day). */
function addMonths(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const idx = y * 12 + m - 1 + n
  const ny = Math.floor(idx / 12)
  const nm = (idx % 12) + 1
  const last = new Date(Date.UTC(ny, nm, 0)).getUTCDate()
  return `${ny}-${String(nm).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`
}
const chinaDate = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10)
const chinaTimeOfDay = (ms: number) => (ms + 8 * 3600_000) % DAY
const cebTime = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14)

/** One document of a message: its order, its buyer slot, and whether it fails field checks. */
interface DocPlan {
  orderNo: string
  buyer: number
  doc: CebDocuments[CebMessageType]
  broken: TicketPlan['broken']
  at: number
}
interface Sent {
  type: CebMessageType
  docs: DocPlan[]
  at: number
  xml: string
  /** A follow-up; a resend repeats the message holding the document it follows. */
  followUp?: { kind: NonNullable<TicketPlan['followUp']>['kind']; of: DocPlan }
}

/**
 * The run's tickets and messages, with their send times: one document per message, or with `batch` documents of one
 * type from different buyers within two days of each other in one message (sent with its last document; not two of one
 * buyer, see the header).
 */
function build(sc: Scenario, run: number): { tickets: GeneratedTicket[]; messages: Sent[]; totals: AnnualTotal[] } {
  const start = START + sc.start * DAY
  const tag = run.toString(36).toUpperCase().padStart(3, '0')
  const tickets: GeneratedTicket[] = []
  const waybillAt: number[] = []
  const docs: Array<DocPlan & { type: CebMessageType; followUp?: Sent['followUp'] }> = []
  sc.tickets.forEach((p, j) => {
    const t = generateTicket(seededRandom(p.gen), {
      index: run * 8 + p.buyer,
      parties: PARTIES,
      mode: p.mode,
      defect: p.defect,
      prefix: `${tag}${j.toString(36).toUpperCase().padStart(2, '0')}`,
      date: chinaDate(start),
    })
    // Batches need documents of one type close together: their tickets start within ten days.
    const at = sc.batch ? p.at % (10 * 24 * 60) : p.at
    let times = p.offsets.map((o) => start + (at + o) * 60_000)
    if (p.reuse && j > 0) {
      const i = p.reuse.of % j
      const first = tickets[i]!.waybill.head.logisticsNo
      const mismatched = t.inventory.head.logisticsNo !== t.waybill.head.logisticsNo // the LOGISTICS_MISMATCH defect
      t.waybill.head.logisticsNo = first
      t.inventory.head.logisticsNo = mismatched ? `${first}0` : first
      const w = waybillAt[i]!
      const boundary = Date.parse(`${addMonths(chinaDate(w), 6)}T00:00:00+08:00`)
      const when = {
        inside: w + p.reuse.days * DAY,
        dayBefore: boundary - DAY + chinaTimeOfDay(w),
        boundary: boundary + chinaTimeOfDay(w),
        boundaryAfterMidnight: boundary + 5 * 60_000, // 00:05 in China, the previous day in UTC
        after: boundary + p.reuse.days * DAY,
      }[p.reuse.gap]
      // The ticket's other documents around its waybill, before or after it.
      times = times.map((x, k) => (k === 2 ? when : when + (x - times[2]!)))
    }
    waybillAt.push(times[2]!)
    tickets.push(t)
    const mine = TYPES.map((type, k) => ({
      type,
      orderNo: t.order.head.orderNo,
      buyer: p.buyer,
      doc: t[SLOT[type]],
      broken: p.broken?.type === type ? p.broken : null,
      at: times[k]!,
    }))
    docs.push(...mine)
    const f = p.followUp
    if (f && f.kind !== 'resend') {
      const of = mine[TYPES.indexOf(f.type)]!
      const doc = structuredClone(of.doc)
      doc.head.appType = { modify: '2', delete: '3', newAgain: '1' }[f.kind]
      doc.head.note = `${f.kind} ${j}`
      docs.push({ ...of, doc, broken: null, at: of.at + f.after * 60_000, followUp: { kind: f.kind, of } })
    } else if (f)
      docs.push({ ...mine[TYPES.indexOf(f.type)]!, followUp: { kind: 'resend', of: mine[TYPES.indexOf(f.type)]! } })
  })
  // Distinct seconds, so "in order of their dates" is one order; each document carries its time as appTime.
  const originals = docs.filter((d) => d.followUp?.kind !== 'resend').sort((a, b) => a.at - b.at)
  originals.forEach((d, k) => {
    if (k > 0 && Math.floor(d.at / 1000) <= Math.floor(originals[k - 1]!.at / 1000))
      d.at = (Math.floor(originals[k - 1]!.at / 1000) + 1) * 1000
  })
  const messages: Sent[] = []
  const open = new Map<CebMessageType, Sent>()
  for (const d of originals) {
    d.doc.head.appTime = cebTime(d.at)
    const batch = open.get(d.type)
    const joins = sc.batch && !d.followUp && batch && !batch.followUp && d.at - batch.docs[0]!.at < 2 * DAY
    // Not two broken documents (intake's CEB900 names the first problem only).
    if (joins && !batch.docs.some((x) => x.broken && d.broken)) {
      batch.docs.push(d)
      batch.at = d.at
      continue
    }
    const m: Sent = { type: d.type, docs: [d], at: d.at, xml: '', ...(d.followUp ? { followUp: d.followUp } : {}) }
    messages.push(m)
    open.set(d.type, m)
  }
  for (const m of messages) {
    const body = m.docs.map((d) => breakDoc(structuredClone(d.doc), m.type, d.broken))
    m.xml = toMessageXml(m.type, body as never, baseTransferFor(SENDER[m.type]))
  }
  // A resend keeps its appTime, which the tool takes as its send time: sent again at once (a retry).
  for (const d of docs) {
    if (d.followUp?.kind !== 'resend') continue
    const of = messages.find((m) => m.docs.includes(d.followUp!.of))!
    messages.push({ ...of, at: of.at + 1, followUp: d.followUp })
  }
  messages.sort((a, b) => a.at - b.at)
  const year = Number(chinaDate(start).slice(0, 4))
  const totals = sc.seeds.flatMap((s, b) => {
    if (!s) return []
    const buyer = tickets.find((_, j) => sc.tickets[j]!.buyer === b)?.order.head.buyerIdNumber
    const amount = `${Math.floor(s.cents / 100)}.${String(s.cents % 100).padStart(2, '0')}`
    return buyer ? [{ buyerIdNumber: buyer, year: s.nextYear ? year + 1 : year, amount }] : []
  })
  return { tickets, messages, totals }
}

/** The document with one field-check failure (a copy: the ticket keeps its own). */
function breakDoc(doc: CebDocuments[CebMessageType], type: CebMessageType, b: TicketPlan['broken']) {
  const head = doc.head as unknown as Record<string, string | undefined>
  if (b?.how === 'noOrderNo') delete head.orderNo
  else if (b?.how === 'missing') delete head[REQUIRED[type]]
  else if (b?.how === 'long') head.currency = `${head.currency}0` // C3: one character too many
  return doc
}

// ---- the property -----------------------------------------------------------------------------------------------

interface Answer {
  returnStatus: number
  codes: string[]
  formatPointers: string[]
}
const sorted = (xs: string[]) => [...xs].sort()

describe('kouan ceb check answers per order as intake does', () => {
  const t = useTestApp({
    cebMatching: true,
    sessionTtl: 5 * 365 * 86_400,
    logLevel: (process.env.KOUAN_PARITY_LOG ?? 'silent') as 'silent',
  })
  const dir = mkdtempSync(join(tmpdir(), 'kouan-ceb-parity-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  let parties: Record<string, CebParty> = {}
  beforeAll(async () => {
    // Sessions and selectivity parameters from before every message of the runs.
    t.clock.set('2024-06-01T00:00:00Z')
    ;({ parties } = await deterministicCebSetup(t))
  })

  /** Sends one message at its time; the refusals in its answer, by order, or its CEB900. */
  async function send(
    m: Sent,
  ): Promise<{ refusals: Array<{ orderNo: string; code: string }>; ceb900?: { code: string; pointer: string } }> {
    t.clock.set(new Date(m.at))
    const p = parties[SENDER[m.type]]!
    const parsed = parseCebXml(m.xml)
    // A message that fails field checks cannot be signed over its parsed form; intake refuses it before the signature.
    const signature = parsed.ok
      ? xmlSignatureHeader(p.cardNo, p.privateKey, parsed.message)
      : `${p.cardNo};Ed25519;AAAA`
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ceb/messages',
      headers: { ...p.headers, 'content-type': 'application/xml', [SIGNATURE_HEADER]: signature },
      payload: m.xml,
    })
    if (res.statusCode === 200) {
      // A refusal answers with its one reason, whose message is the returnInfo. An identical resend of a stored document
      // is answered with that document's latest receipt instead: a repeat (a rejected ticket's 100 among them).
      const receipts = res.json().receipts as Array<{
        orderNo: string
        returnStatus: number
        returnInfo: string
        reasons: Array<{ code: string; message: string }>
      }>
      return {
        refusals: receipts
          .filter((r) => r.returnStatus === 100 && r.reasons.length === 1 && r.reasons[0]!.message === r.returnInfo)
          .map((r) => ({ orderNo: r.orderNo, code: r.reasons[0]!.code })),
      }
    }
    const info = /<(?:\w+:)?returnInfo>(\S+) (\S+): /.exec(res.body)
    if (res.statusCode !== 400 || !info || parsed.ok)
      throw new Error(
        `unexpected answer ${res.statusCode} to ${m.type} of ${m.docs.map((d) => d.orderNo).join(', ')}: ${res.body}`,
      )
    return { refusals: [], ceb900: { code: info[1]!, pointer: info[2]! } }
  }

  let run = 0
  const stats = new Map<string, number>()
  const count = (k: string) => stats.set(k, (stats.get(k) ?? 0) + 1)
  afterAll(() => {
    if (process.env.KOUAN_PARITY_STATS) console.log(Object.fromEntries([...stats].sort((a, b) => b[1] - a[1])))
  })
  it('gives the same returnStatus and reason codes per order, and FORMAT where intake answers CEB900', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const { tickets, messages, totals } = build(sc, ++run)
        const orders = tickets.map((x) => x.order.head.orderNo)
        if (totals.length) {
          await t.db.query(
            'insert into ceb_buyer_totals (buyer_id_number, year, total) select * from jsonb_to_recordset($1::jsonb) as x(b text, y int, a numeric)',
            [JSON.stringify(totals.map((x) => ({ b: x.buyerIdNumber, y: x.year, a: x.amount })))],
          )
        }

        // Intake: the messages in order of their times, each at its time.
        const intake = new Map<string, { refusals: string[]; ceb900: string[] }>(
          orders.map((o) => [o, { refusals: [], ceb900: [] }]),
        )
        const unreadable: string[] = []
        const files: string[] = []
        const json = seededRandom(sc.fileOrder + 1)
        for (const [k, m] of messages.entries()) {
          count(m.followUp ? `follow-up ${m.followUp.kind}` : `message of ${m.docs.length}`)
          const a = await send(m)
          for (const r of a.refusals) intake.get(r.orderNo)!.refusals.push(r.code)
          if (a.ceb900) {
            expect(a.ceb900.code).toBe('FORMAT')
            // Refused as a whole: for each order it was about whose number can be read from it.
            for (const d of m.docs)
              if (d.broken?.how !== 'noOrderNo') intake.get(d.orderNo)!.ceb900.push(a.ceb900.pointer)
          }
          // The tool's file: the XML sent, or the message as JSON.
          const parsed = parseCebXml(m.xml)
          const file = join(dir, `${run}-${k}-${m.type}.${parsed.ok && json() < 0.3 ? 'json' : 'xml'}`)
          writeFileSync(file, file.endsWith('.json') && parsed.ok ? JSON.stringify(parsed.message) : m.xml)
          files.push(file)
          if (m.docs.some((d) => d.broken?.how === 'noOrderNo')) unreadable.push(file)
        }
        const rows = new Map(
          (
            await t.db.query<{ order_no: string; return_status: number; reasons: Array<{ code: string }> }>(
              'select order_no, return_status, reasons from ceb_tickets where order_no = any($1::text[])',
              [orders],
            )
          ).map((r) => [r.order_no, r]),
        )
        const expected = new Map<string, Answer>(
          orders.map((o) => {
            const ticket = rows.get(o)
            const status = ticket?.return_status ?? 2
            if (![2, 100, 800].includes(status))
              throw new Error(
                `intake gave ${o} status ${status}: selectivity is meant to release every consistent ticket here`,
              )
            const { refusals, ceb900 } = intake.get(o)!
            const refused = refusals.length + ceb900.length > 0
            return [
              o,
              {
                returnStatus: refused || status === 100 ? 100 : status === 800 ? 120 : 2,
                codes: sorted([
                  ...refusals,
                  ...ceb900.map(() => 'FORMAT'),
                  ...(ticket?.reasons ?? []).map((r) => r.code),
                ]),
                formatPointers: sorted(ceb900),
              },
            ]
          }),
        )

        // The tool: the same files in another order, the earlier totals given.
        const shuffle = seededRandom(sc.fileOrder)
        const given = files
          .map((f) => [shuffle(), f] as const)
          .sort((a, b) => a[0] - b[0])
          .map(([, f]) => f)
        const results = checkFiles(given, { today: chinaDate(messages.at(-1)!.at), annualTotals: totals })
        const got = new Map<string, Answer>(
          results
            .filter((r) => r.returnStatus !== -1)
            .map((r) => [
              r.orderNo,
              {
                returnStatus: r.returnStatus,
                codes: sorted(r.reasons.map((x) => x.code)),
                formatPointers: sorted(r.reasons.filter((x) => x.file !== undefined).map((x) => x.pointer)),
              },
            ]),
        )
        for (const a of expected.values()) {
          count(`status ${a.returnStatus}`)
          for (const c of new Set(a.codes)) count(c)
        }
        count(`orders ${orders.length}`)
        if (totals.length) count('runs with earlier totals')
        expect(Object.fromEntries(orders.map((o) => [o, got.get(o)]))).toEqual(Object.fromEntries(expected))
        expect(sorted(results.filter((r) => r.returnStatus === -1).map((r) => r.file!))).toEqual(sorted(unreadable))
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    )
  }, 300_000)
})
