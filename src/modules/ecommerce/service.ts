import Big from 'big.js'
import type { Db, Queryable, Tx } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import { appendAudit } from '../../shared/audit.js'
import { canonicalJson, sha256Hex, verifiesWithCard } from '../../shared/signing.js'
import { findCards } from '../cards/index.js'
import { decide, type Facts } from '../selectivity/index.js'
import { selectivityState } from '../selectivity/index.js'
import { verifyTicket, waybillReusable, type EnterpriseRole, type Verdict } from './rules.js'
import { DEFAULT_TAX_RATES } from './tax.js'
import { HEAD_NAME, appTypeOf, docKey, messageCanonicalJson, orderNoOf, senderCodes } from './keys.js'
import {
  PARTY_CODES,
  documentParties,
  notNamed,
  partyRegistry,
  senderField,
  senderRoles,
  settled,
  ticketStanding,
  type PartyDoc,
  type PartyHead,
  type RegistryRow,
  type Standing,
} from './parties.js'
import { enqueueDeliveries } from './webhooks.js'
import type {
  CebDocuments,
  CebMessage,
  CebMessageType,
  CebProblem,
  Inventory,
  Order,
  Payment,
  Receipt,
  Waybill,
} from './types.js'

export interface Deps {
  db: Db
  clock: Clock
  ids: Ids
}

/**
 * A message's canonical forms, computed where it was parsed (the parse pool's worker thread): each document's canonical
 * JSON, optionally its SHA-256 (hex) and the message's canonical JSON as UTF-8 bytes (what the signature covers).
 */
export interface Prepared {
  canonical: string[]
  hashes?: string[] | undefined
  signed?: Uint8Array | undefined
}

/**
 * How intake hands complete tickets to matching: `inline` matches them in the intake transaction (the verdict
 * is in the acknowledgement's wake, and nothing sits in between); `queue` leaves them in `ceb_match_queue` for
 * {@link matchQueued} (another process, or later).
 */
export type Matching = 'inline' | 'queue'

/** Presence bit of each document type in `ceb_tickets.present`; a ticket is complete at 15. */
const BIT: Record<CebMessageType, number> = { CEB311: 1, CEB411: 2, CEB511: 4, CEB621: 8 }
const COMPLETE = 15
/**
 * The document types of a ticket whose standing a message of each type can change (an order names all the parties;
 * an inventory names the logistics enterprise; the others name no one) and so the types intake reads for it, with the
 * order that names them.
 */
const AFFECTED: Record<CebMessageType, CebMessageType[]> = {
  CEB311: ['CEB311', 'CEB411', 'CEB511', 'CEB621'],
  CEB411: ['CEB411'],
  CEB511: ['CEB511'],
  CEB621: ['CEB621', 'CEB511'],
}
const AFFECTS = Object.fromEntries(
  Object.entries(AFFECTED).map(([t, ts]) => [t, ts.reduce((m, x) => m | BIT[x], 0)]),
) as Record<CebMessageType, number>
const READS = Object.fromEntries(
  Object.entries(AFFECTED).map(([t, ts]) => [
    t,
    [...new Set(['CEB311', ...ts, ...(t === 'CEB511' ? ['CEB621'] : [])])],
  ]),
) as Record<CebMessageType, CebMessageType[]>

/** Deadlock or serialization failure: the transaction did nothing and can run again. */
const retryable = (e: unknown) =>
  typeof e === 'object' && e !== null && ['40P01', '40001'].includes((e as { code?: string }).code ?? '')

async function withRetry<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run()
    } catch (e) {
      if (i >= attempts || !retryable(e)) throw e
    }
  }
}

export type { Receipt } from './types.js'

/** `returnStatus` values this channel issues (DOMAIN §5 receipts). */
export const STATUS = {
  RECEIVED: 2,
  REJECTED: 100,
  PASSED: 120,
  REVIEW: 300,
  ASSESSED: 399,
  INSPECTION: 500,
  RELEASED: 800,
} as const

const china = (d: Date) => new Date(d.getTime() + 8 * 3600_000)
const chinaDay = (d: Date) => china(d).toISOString().slice(0, 10)

type Doc = CebDocuments[CebMessageType]

/** A stored document of a ticket this message touches, with the party fields of its head. */
interface Stored {
  type: CebMessageType
  doc_key: string
  order_no: string
  content_hash: string
  version: number
  deleted: boolean
  /** Stored: 'refused' (a held document the party rules refused; also deleted) or 'joined' (not refused). Whether a live
   * document counts or is held is not stored: it follows from the ticket's documents ({@link ticketStanding}). */
  standing: 'joined' | 'refused'
  received_at: Date
  sender: string
  head: PartyHead
}

/** The party fields of stored heads, from their columns (0013): the bodies are not read. */
const HEAD_COLUMNS = `d.type, d.doc_key, d.order_no, d.content_hash, d.version, d.deleted, d.standing, d.received_at, d.sender,
  d.ebp, d.ebc, d.pay, d.logistics, d.agent, d.assure`
const HEAD_FROM = 'ceb_documents d'
type StoredRow = Omit<Stored, 'head'> & {
  ebp: string | null
  ebc: string | null
  pay: string | null
  logistics: string | null
  agent: string | null
  assure: string | null
}
const storedOf = ({ ebp, ebc, pay, logistics, agent, assure, ...r }: StoredRow): Stored => ({
  ...r,
  head: partyHead({
    ebpCode: ebp,
    ebcCode: ebc,
    payCode: pay,
    logisticsCode: logistics,
    agentCode: agent,
    assureCode: assure,
  }),
})
/** First come first: the order in which the party rules stand a ticket's documents. */
const byArrival = (a: Stored, b: Stored) =>
  new Date(a.received_at).getTime() - new Date(b.received_at).getTime() ||
  (a.type < b.type ? -1 : a.type > b.type ? 1 : a.doc_key < b.doc_key ? -1 : 1)
const partyHead = (h: Record<string, string | null | undefined>): PartyHead => ({
  ebpCode: h.ebpCode ?? undefined,
  ebcCode: h.ebcCode ?? undefined,
  payCode: h.payCode ?? undefined,
  logisticsCode: h.logisticsCode ?? undefined,
  agentCode: h.agentCode ?? undefined,
  assureCode: h.assureCode ?? undefined,
})

/**
 * Receives one signed message: checks the port card and signature, applies each document's appType
 * (1 new, 2 modify, 3 delete) against what is stored, stores documents durably with a "received" receipt,
 * decides which documents count on their tickets (the party rules of parties.ts: a document joins only when
 * its sender is the party the ticket's order names; one arriving before the document naming it is held),
 * sets the tickets' presence bits and matches the tickets now due (`inline`) or queues them (`queue`) —
 * all in one transaction. A resend of an identical document is idempotent: it writes nothing and answers
 * with the document's latest receipt. Documents of a ticket with a verdict past the logic checks (300 and
 * above) can no longer change: a released ticket is never judged again.
 */
export async function receiveMessage(
  deps: Deps,
  sessionCardId: string,
  message: CebMessage,
  signature: { cardNo: string; alg: string; value: string },
  matching: Matching = 'queue',
  /** What the parse pool computed already: each document's canonical JSON and its hash, the signed bytes. */
  prepared?: Prepared,
): Promise<{ receipts: Receipt[] } | { refused: CebProblem[]; status: number }> {
  const { byId, byNo } = await findCards(deps.db, [signature.cardNo], [sessionCardId])
  const session = byId.get(sessionCardId)
  const card = byNo.get(signature.cardNo)
  if (!session || session.status !== 'ACTIVE')
    return {
      status: 401,
      refused: [
        { code: 'SIGNATURE', message: 'the port card of this session is revoked', pointer: '/headers/authorization' },
      ],
    }
  if (!card || card.status !== 'ACTIVE')
    return {
      status: 401,
      refused: [
        {
          code: 'SIGNATURE',
          message: `port card ${signature.cardNo} is unknown or revoked`,
          pointer: '/signature/cardNo',
        },
      ],
    }
  if (card.enterpriseId !== session.enterpriseId)
    return {
      status: 403,
      refused: [
        { code: 'SIGNATURE', message: 'the signing card belongs to another enterprise', pointer: '/signature/cardNo' },
      ],
    }
  // Each document is put in canonical form once: for its content hash and, joined, for the signed message.
  const canonical = prepared?.canonical ?? message.documents.map((d) => canonicalJson(d))
  if (!verifiesWithCard(card, signature, prepared?.signed ?? messageCanonicalJson(message, canonical))) {
    return {
      status: 422,
      refused: [
        {
          code: 'SIGNATURE',
          message: 'the signature does not verify over the canonical message with the card key',
          pointer: '/signature/value',
        },
      ],
    }
  }
  // The sender and, where the registry knows them, its CEB roles (null: unknown, registration alone counts).
  const [ent] = await deps.db.query<{ customs_code: string; roles: string[] | null }>(
    'select e.customs_code, p.roles from enterprises e left join ceb_parties p on p.enterprise_id = e.id where e.id = $1',
    [card.enterpriseId],
  )
  const code = ent!.customs_code
  const knownRoles = ent!.roles
  const type = message.type
  if (message.baseTransfer.copCode !== code) {
    return {
      status: 403,
      refused: [
        {
          code: 'SIGNATURE',
          message: `BaseTransfer copCode ${message.baseTransfer.copCode} is not the signing enterprise (${code})`,
          pointer: `/${type}Message/BaseTransfer/copCode`,
        },
      ],
    }
  }
  const now = deps.clock.now()
  const nowIso = now.toISOString()
  const docs = message.documents.map((d, i) => {
    const doc = d as Doc
    return {
      d: doc,
      i,
      key: docKey(type, doc),
      orderNo: orderNoOf(doc),
      head: partyHead(doc.head as unknown as Record<string, string>),
      canonical: canonical[i]!,
      hash: prepared?.hashes?.[i] ?? sha256Hex(canonical[i]!),
    }
  })
  const notParty = docs.find((x) => !senderCodes(type, x.d).includes(code))
  if (notParty) {
    return {
      status: 403,
      refused: [
        {
          code: 'SIGNATURE',
          message: `the signing enterprise ${code} is not a party entitled to send this ${type} document`,
          pointer: `/${type}Message/${HEAD_NAME[type]}/${notParty.i}`,
        },
      ],
    }
  }
  type In = (typeof docs)[number]

  const sel = matching === 'inline' ? await selectivityState(deps.db, now) : undefined
  return withRetry(() =>
    deps.db.transaction(async (tx) => {
      const receipts: Receipt[] = []
      /** Refusals of the party rules, audited (nothing is stored for them). */
      const refusals: Array<{ key: string; orderNo: string; code: string }> = []
      const refuseAt = (x: In, code: string, msg: string, pointer: string) => {
        receipts.push({
          type,
          docKey: x.key,
          orderNo: x.orderNo,
          returnStatus: STATUS.REJECTED,
          returnInfo: msg,
          reasons: [{ code, message: msg, pointer }],
        })
        if (code in PARTY_CODES) refusals.push({ key: x.key, orderNo: x.orderNo, code })
      }
      const refuse = (x: In, code: string, msg: string, field = 'appType') =>
        refuseAt(x, code, msg, `/${type}/${HEAD_NAME[type]}/${field}`)
      const audited = () => {
        if (refusals.length)
          appendAudit(tx, {
            at: now,
            actor: `card:${card.cardNo}`,
            action: 'CEB_DOCUMENTS_REFUSED',
            entityType: 'ceb_message',
            entityId: message.guid,
            data: { type, sender: code, documents: refusals },
          })
      }

      // What needs nothing stored: a document twice in the message, the sender's registered roles.
      const seenInMessage = new Set<string>()
      const candidates: In[] = []
      for (const x of docs) {
        if (seenInMessage.has(x.key)) {
          refuse(x, 'FORMAT', `document ${x.key} appears twice in the message`, 'guid')
          continue
        }
        seenInMessage.add(x.key)
        const as = senderRoles(type, x.head, code)
        if (knownRoles && !as.some((r) => knownRoles.includes(r))) {
          refuse(
            x,
            'CEB_SENDER_ROLE',
            `enterprise ${code} is registered for CEB as ${knownRoles.join(', ') || 'no role'}, not as ${as.join(' or ')}`,
            senderField(type, x.head, code),
          )
          continue
        }
        candidates.push(x)
      }
      if (!candidates.length) {
        await insertReceipts(tx, receipts, nowIso, code)
        audited()
        return { receipts }
      }

      // Lock the tickets (made if new) in order-number order before reading their documents: every message touching an
      // order waits for the one before, then reads what it committed — a document and the one naming it never miss
      // each other. Concurrent messages lock in the same order.
      const orderNos = [...new Set(candidates.map((x) => x.orderNo))].sort()
      // `do update … where false` locks an existing ticket without writing a new version of it (only inserted rows come
      // back); the state is read once the locks are held.
      const fresh = new Set(
        (
          await tx.query<{ order_no: string }>(
            `insert into ceb_tickets (order_no, return_status, present, created_at, updated_at)
       select o, 2, 0, $1::timestamptz, $1::timestamptz from unnest($2::text[]) as o order by o
       on conflict (order_no) do update set updated_at = excluded.updated_at where false
       returning order_no`,
            [nowIso, orderNos],
          )
        ).map((t) => t.order_no),
      )
      const tickets = new Map(
        (
          await tx.query<TicketRow & { present: number; complete: boolean }>(
            'select order_no, return_status, reasons, present, complete from ceb_tickets where order_no = any($1::text[])',
            [orderNos],
          )
        ).map((t) => [t.order_no, { ...t, fresh: fresh.has(t.order_no) }]),
      )
      // The documents of those orders (party fields only) and, locked, the stored versions of this message's documents.
      const rows = await tx.query<StoredRow>(
        `with mine as (select ${HEAD_COLUMNS} from ${HEAD_FROM} where d.type = $1 and d.doc_key = any($2::text[]) for update of d)
       select * from mine
       union all
       select ${HEAD_COLUMNS} from ${HEAD_FROM} where d.order_no = any($3::text[]) and d.type = any($4::text[]) and not (d.type = $1 and d.doc_key = any($2::text[]))`,
        [type, candidates.map((x) => x.key), orderNos, READS[type]],
      )
      const stored: Stored[] = rows.map(storedOf).sort(byArrival)
      const existing = new Map(stored.filter((r) => r.type === type).map((r) => [r.doc_key, r]))
      const storedByOrder = new Map<string, Stored[]>()
      for (const r of stored)
        if (!r.deleted) storedByOrder.set(r.order_no, [...(storedByOrder.get(r.order_no) ?? []), r])
      // How the live documents stand before this message, first come first (what the rules decided when they came).
      const before = new Map<Stored, Standing>()
      for (const [o, list] of storedByOrder) {
        ticketStanding(
          o,
          list.map((r) => ({ type: r.type, key: r.doc_key, head: r.head, joined: false })),
        ).forEach((st, i) => before.set(list[i]!, st))
      }
      const joinedBefore = (r: Stored | undefined) => !!r && before.get(r)?.standing === 'joined'
      const joinedHead = (orderNo: string, t: CebMessageType) =>
        storedByOrder.get(orderNo)?.find((r) => r.type === t && joinedBefore(r))?.head
      // Tickets are keyed by order number: an order number another platform's live order already holds is refused.
      const taken = new Map(stored.filter((r) => r.type === 'CEB311' && !r.deleted).map((r) => [r.order_no, r.doc_key]))

      interface Write {
        x: In
        version: number
        deleted: boolean
        joinedBefore: boolean
        retires?: Stored
        held?: string
      }
      const writes: Write[] = []
      const resent: In[] = []
      for (const x of candidates) {
        const e = existing.get(x.key)
        const app = appTypeOf(x.d)
        if (e && !e.deleted && e.content_hash === x.hash) {
          resent.push(x)
          continue
        } // an identical resend: idempotent
        const write = (version: number, deleted: boolean, retires?: Stored) =>
          writes.push({
            x,
            version,
            deleted,
            joinedBefore: !!e && !e.deleted && e.order_no === x.orderNo && joinedBefore(e),
            ...(retires ? { retires } : {}),
          })
        // A change of a stored document comes from a party of the stored version, not one the change names.
        if (app !== '1' && e && !e.deleted && senderRoles(type, e.head, code).length === 0) {
          refuse(
            x,
            'CEB_PARTY_NOT_NAMED',
            `document ${x.key} names other parties; only they may change it`,
            senderField(type, x.head, code),
          )
          continue
        }
        // The party rules first, so an outsider learns nothing else about the ticket.
        const outsider = notNamed(
          x.orderNo,
          type,
          x.head,
          joinedHead(x.orderNo, 'CEB311'),
          joinedHead(x.orderNo, 'CEB621'),
        )
        if (outsider?.standing === 'refused') {
          refuseAt(x, outsider.code, outsider.message, outsider.pointer)
          continue
        }
        const holder = type === 'CEB311' && app === '1' ? taken.get(x.orderNo) : undefined
        if (holder && holder !== x.key) {
          refuse(
            x,
            'DUPLICATE_ORDER',
            `order number ${x.orderNo} is already used by order ${holder}; order numbers identify tickets across platforms`,
            'orderNo',
          )
          continue
        }
        const status = tickets.get(x.orderNo)!.return_status
        if (settled(status)) {
          refuse(
            x,
            'CEB_TICKET_SETTLED',
            `order ${x.orderNo} has verdict ${status}; its documents can no longer change or be added`,
            'orderNo',
          )
          continue
        }
        if (app === '1') {
          // A waybill number serves one order; the logistics firm may use it again for another order 6 months after
          // its first use (or once that waybill was deleted). The earlier use is then retired under a key naming its
          // order, so that order keeps its waybill and receipts.
          if (type === 'CEB511' && e && e.order_no !== x.orderNo) {
            if (!e.deleted && !waybillReusable(new Date(e.received_at).toISOString(), chinaDay(now))) {
              refuse(
                x,
                'DUPLICATE_WAYBILL',
                `waybill ${x.key} serves order ${e.order_no} since ${chinaDay(new Date(e.received_at))}; a logistics firm may reuse a waybill number 6 months after its use`,
                'logisticsNo',
              )
              continue
            }
            writes.push({ x, version: 1, deleted: false, joinedBefore: false, retires: e })
            continue
          }
          if (e && !e.deleted) {
            refuse(x, 'FORMAT', `document ${x.key} exists; modify it with appType 2`)
            continue
          }
          write((e?.version ?? 0) + 1, false)
        } else if (!e || e.deleted) {
          refuse(x, 'FORMAT', `document ${x.key} does not exist; appType ${app} needs an earlier appType 1`)
        } else if (e.order_no !== x.orderNo) {
          refuse(
            x,
            'FORMAT',
            `a ${app === '2' ? 'modification' : 'deletion'} cannot move document ${x.key} to another order`,
            'orderNo',
          )
        } else {
          write(e.version + 1, app === '3')
        }
      }

      // Standing of every live document of the orders this message writes to, with the writes applied. A write the
      // party rules refuse is dropped (the stored version, if any, stays) and the orders are judged again without it.
      // Orders without writes (all refused, or settled) are not judged: nothing of theirs changes.
      const writesByOrder = new Map<string, Write[]>()
      for (const w of writes) writesByOrder.set(w.x.orderNo, [...(writesByOrder.get(w.x.orderNo) ?? []), w])
      const judged = orderNos.filter((o) => writesByOrder.has(o))
      interface Judged {
        docs: PartyDoc[]
        stored: Array<Stored | undefined>
        writes: Array<Write | undefined>
        standing: Standing[]
      }
      const dropped = new Map<Write, Extract<Standing, { standing: 'refused' }>>()
      const judge = (o: string): Judged => {
        const mine = new Map(
          writesByOrder
            .get(o)!
            .filter((w) => !dropped.has(w))
            .map((w) => [w.x.key, w]),
        )
        const j: Judged = { docs: [], stored: [], writes: [], standing: [] }
        const add = (doc: PartyDoc, r: Stored | undefined, w: Write | undefined) => {
          j.docs.push(doc)
          j.stored.push(r)
          j.writes.push(w)
        }
        for (const r of storedByOrder.get(o) ?? []) {
          const w = r.type === type ? mine.get(r.doc_key) : undefined
          if (w) mine.delete(r.doc_key)
          if (w?.deleted) continue
          add({ type: r.type, key: r.doc_key, head: w ? w.x.head : r.head, joined: joinedBefore(r) }, r, w)
        }
        for (const w of mine.values())
          if (!w.deleted) add({ type, key: w.x.key, head: w.x.head, joined: false }, undefined, w)
        j.standing = ticketStanding(o, j.docs)
        return j
      }
      const result = new Map<string, Judged>()
      // Judged again: only the orders a write was just dropped from.
      for (let again = judged; again.length;) {
        for (const o of again) result.set(o, judge(o))
        const next = new Set<string>()
        for (const o of again) {
          const j = result.get(o)!
          j.standing.forEach((s, i) => {
            const w = j.writes[i]
            if (w && s.standing === 'refused') {
              dropped.set(w, s)
              next.add(o)
            }
          })
        }
        again = [...next]
      }
      for (const [w, s] of dropped) refuseAt(w.x, s.code, s.message, s.pointer)

      const applied = writes.filter((w) => !dropped.has(w))
      // Stored documents whose standing changes: joined ↔ held (nothing to store), or refused now that the document
      // naming them came (stored: refused and deleted).
      const changes: Array<{
        r: Stored
        standing: Standing['standing']
        refused?: Extract<Standing, { standing: 'refused' }>
      }> = []
      const present = new Map<string, number>()
      const touched = new Set<string>()
      for (const [o, j] of result) {
        // The types this message reads are the ones whose standing it can change; the others keep their bits.
        let bits = tickets.get(o)!.present & ~AFFECTS[type]
        j.standing.forEach((s, i) => {
          const r = j.stored[i]
          const w = j.writes[i]
          const joined = s.standing === 'joined'
          if (joined) bits |= BIT[j.docs[i]!.type] & AFFECTS[type]
          if (w) {
            if (s.standing === 'held') w.held = s.because
            if (joined || w.joinedBefore) touched.add(o)
          } else if (r) {
            const was = before.get(r)!.standing
            if (s.standing !== was) {
              changes.push({ r, standing: s.standing, ...(s.standing === 'refused' ? { refused: s } : {}) })
              if (joined || was === 'joined') touched.add(o)
            }
          }
        })
        present.set(o, bits)
      }
      // A deleted document that counted leaves its ticket.
      for (const w of applied) if (w.deleted && w.joinedBefore) touched.add(w.x.orderNo)

      for (const w of applied) {
        const e = w.retires
        if (!e) continue
        const key = `${e.doc_key}#${e.order_no}`
        await tx.query('update ceb_documents set doc_key = $3 where type = $1 and doc_key = $2', [
          e.type,
          e.doc_key,
          key,
        ])
        await tx.query('update ceb_receipts set doc_key = $3 where order_no = $4 and type = $1 and doc_key = $2', [
          e.type,
          e.doc_key,
          key,
          e.order_no,
        ])
        await tx.query(
          `update ceb_receipts set docs = (select json_agg(case when d ->> 0 = $1 and d ->> 1 = $2 then json_build_array(d -> 0, $3::text, d -> 2) else d end order by n)
           from json_array_elements(docs) with ordinality as x(d, n))
         where order_no = $4 and docs is not null`,
          [e.type, e.doc_key, key, e.order_no],
        )
        appendAudit(tx, {
          at: now,
          actor: `card:${card.cardNo}`,
          action: 'CEB_WAYBILL_RETIRED',
          entityType: 'ceb_ticket',
          entityId: e.order_no,
          data: { docKey: e.doc_key, retiredAs: key, version: e.version },
        })
      }
      if (applied.length) {
        await tx.query(
          `insert into ceb_documents (type, doc_key, order_no, guid, content_hash, version, deleted, standing, sender, card_no, body, received_at, updated_at,
           ebp, ebc, pay, logistics, agent, assure)
         select $1, doc_key, order_no, guid, content_hash, version, deleted, 'joined', $2, $3, body, $4, $4, ebp, ebc, pay, logistics, agent, assure
         from json_to_recordset($5::text::json) as x(doc_key text, order_no text, guid text, content_hash text, version int, deleted boolean, body json,
           ebp text, ebc text, pay text, logistics text, agent text, assure text)
         on conflict (type, doc_key) do update set order_no = excluded.order_no, guid = excluded.guid, content_hash = excluded.content_hash,
           version = excluded.version, deleted = excluded.deleted, standing = excluded.standing, sender = excluded.sender, card_no = excluded.card_no,
           body = excluded.body, updated_at = excluded.updated_at, ebp = excluded.ebp, ebc = excluded.ebc, pay = excluded.pay,
           logistics = excluded.logistics, agent = excluded.agent, assure = excluded.assure`,
          // Bodies go in as their canonical JSON, already at hand, rather than serialised again.
          [
            type,
            code,
            card.cardNo,
            nowIso,
            `[${applied
              .map((w) => {
                const h = w.x.head
                return `${JSON.stringify({ doc_key: w.x.key, order_no: w.x.orderNo, guid: w.x.d.head.guid, content_hash: w.x.hash, version: w.version, deleted: w.deleted, ebp: h.ebpCode, ebc: h.ebcCode, pay: h.payCode, logistics: h.logisticsCode, agent: h.agentCode, assure: h.assureCode }).slice(0, -1)},"body":${w.x.canonical}}`
              })
              .join(',')}]`,
          ],
        )
        for (const w of applied) {
          receipts.push({
            type,
            docKey: w.x.key,
            orderNo: w.x.orderNo,
            returnStatus: STATUS.RECEIVED,
            returnInfo: w.deleted ? 'deleted' : w.held ? `received, held: ${w.held}` : 'received',
            reasons: [],
            docVersion: w.version,
          })
        }
        appendAudit(tx, {
          at: now,
          actor: `card:${card.cardNo}`,
          action: 'CEB_DOCUMENTS_RECEIVED',
          entityType: 'ceb_message',
          entityId: message.guid,
          data: {
            type,
            documents: applied.map((w) => ({
              key: w.x.key,
              orderNo: w.x.orderNo,
              version: w.version,
              deleted: w.deleted,
              hash: w.x.hash,
              ...(w.held ? { held: true } : {}),
            })),
          },
        })
      }
      // Received (and refused) receipts first: a verdict this message completes comes after them.
      await insertReceipts(tx, receipts, nowIso, code)
      audited()
      if (changes.length) {
        const refusedRows = changes.filter((c) => c.refused)
        if (refusedRows.length) {
          await tx.query(
            `update ceb_documents d set standing = 'refused', deleted = true, updated_at = $1::timestamptz
           from json_to_recordset($2::text::json) as x(type text, doc_key text) where d.type = x.type and d.doc_key = x.doc_key`,
            [nowIso, JSON.stringify(refusedRows.map((c) => ({ type: c.r.type, doc_key: c.r.doc_key })))],
          )
        }
        const refusedNow = changes
          .filter((c) => c.refused)
          .map((c): { r: Stored; receipt: Receipt } => ({
            r: c.r,
            receipt: {
              type: c.r.type,
              docKey: c.r.doc_key,
              orderNo: c.r.order_no,
              returnStatus: STATUS.REJECTED,
              returnInfo: c.refused!.message,
              reasons: [{ code: c.refused!.code, message: c.refused!.message, pointer: c.refused!.pointer }],
              docVersion: c.r.version,
            },
          }))
        if (refusedNow.length) {
          const senders = new Map(refusedNow.map((x) => [x.receipt, x.r.sender]))
          await insertReceipts(
            tx,
            refusedNow.map((x) => x.receipt),
            nowIso,
            (r) => senders.get(r) ?? null,
          )
          await enqueueDeliveries(
            tx,
            refusedNow.map((x) => x.receipt),
            nowIso,
          )
        }
        // Held documents joining follow from the rule and the documents already audited: counted, not listed. A refusal
        // or a document held again (its naming document deleted) is listed.
        appendAudit(tx, {
          at: now,
          actor: `card:${card.cardNo}`,
          action: 'CEB_DOCUMENTS_STANDING',
          entityType: 'ceb_message',
          entityId: message.guid,
          data: {
            joined: changes.filter((c) => c.standing === 'joined').length,
            held: changes
              .filter((c) => c.standing === 'held')
              .map((c) => ({ type: c.r.type, key: c.r.doc_key, orderNo: c.r.order_no })),
            refused: changes
              .filter((c) => c.refused)
              .map((c) => ({ type: c.r.type, key: c.r.doc_key, orderNo: c.r.order_no, code: c.refused!.code })),
          },
        })
      }
      // Presence bits, absolute (the tickets are locked); a ticket made for documents that were all refused goes again.
      const bitsChanged = judged.filter((o) => present.get(o) !== tickets.get(o)!.present)
      if (bitsChanged.length) {
        await tx.query(
          `update ceb_tickets t set present = x.present, updated_at = $1::timestamptz from json_to_recordset($2::text::json) as x(order_no text, present smallint) where t.order_no = x.order_no`,
          [nowIso, JSON.stringify(bitsChanged.map((o) => ({ order_no: o, present: present.get(o) })))],
        )
      }
      const appliedOrders = new Set(applied.map((w) => w.x.orderNo))
      const unused = orderNos.filter((o) => tickets.get(o)!.fresh && !appliedOrders.has(o))
      if (unused.length) await tx.query('delete from ceb_tickets where order_no = any($1::text[])', [unused])
      // Matched when the last document joins, and again whenever a counted document of a matched order changes.
      const due = judged.filter(
        (o) =>
          touched.has(o) &&
          !settled(tickets.get(o)!.return_status) &&
          (present.get(o) === COMPLETE || tickets.get(o)!.complete),
      )
      if (due.length && sel) {
        // This message's own documents are at hand; only the other types are read back.
        const mine = applied
          .filter((w) => !w.deleted && !w.held)
          .map((w) => ({ type, doc_key: w.x.key, order_no: w.x.orderNo, body: w.x.d, version: w.version }))
        await matchOrders(tx, sel, due, now, { type, docs: mine, tickets: due.map((o) => tickets.get(o)!) })
      } else if (due.length) {
        await tx.query(
          `insert into ceb_match_queue (order_no, enqueued_at) select unnest($2::text[]), $1::timestamptz`,
          [nowIso, due],
        )
      }
      // Identical resends answer with the document's latest receipt.
      if (resent.length) {
        const keys = new Set(resent.map((x) => x.key))
        const rows = await tx.query<ReceiptRow>(
          `select ${RECEIPT_COLUMNS} from ceb_receipts where order_no = any($3::text[]) and doc_version is not null
           and (docs is not null or (type = $1 and doc_key = any($2::text[]))) order by id`,
          [type, [...keys], [...new Set(resent.map((x) => existing.get(x.key)!.order_no))]],
        )
        const last = new Map<string, Receipt>()
        for (const r of receiptsOfRows(rows)) if (r.type === type && keys.has(r.docKey)) last.set(r.docKey, r)
        for (const r of last.values())
          receipts.push({
            type,
            docKey: r.docKey,
            orderNo: r.orderNo,
            returnStatus: r.returnStatus,
            returnInfo: r.returnInfo,
            reasons: r.reasons,
          })
      }
      return { receipts }
    }),
  )
}

/** Stores receipts; `sender`: the enterprise whose message they answer (intake), so it finds a refusal again. */
async function insertReceipts(
  tx: Tx,
  receipts: Array<Receipt | VerdictReceipt>,
  at: string,
  sender: string | null | ((r: Receipt) => string | null) = null,
) {
  if (!receipts.length) return
  const senderOf = typeof sender === 'function' ? sender : () => sender
  await tx.query(
    `insert into ceb_receipts (type, doc_key, order_no, return_status, return_info, reasons, doc_version, sender, docs, created_at)
     select type, doc_key, order_no, return_status, return_info, reasons, doc_version, sender, docs, $1 from json_to_recordset($2::text::json)
       as x(type text, doc_key text, order_no text, return_status int, return_info text, reasons jsonb, doc_version int, sender text, docs json)`,
    [
      at,
      JSON.stringify(
        receipts.map((r) => ({
          type: r.type,
          doc_key: r.docKey,
          order_no: r.orderNo,
          return_status: r.returnStatus,
          return_info: r.returnInfo,
          reasons: r.reasons,
          doc_version: r.docVersion ?? null,
          sender: senderOf(r),
          docs: 'docs' in r ? r.docs : null,
        })),
      ),
    ],
  )
}

/**
 * A ticket's verdict, stored as one receipt row (0013) for the receipts it stands for: 100 on each document of the
 * ticket (with the reasons), or 120 on each, then on the inventory 300 or 500 (with the lane's reasons), or 399 and
 * 800. `type`, `docKey`, `docVersion`: the inventory's; `docs`: the ticket's documents as [type, key, version].
 */
export interface VerdictReceipt extends Receipt {
  docs: Array<[CebMessageType, string, number]>
}

/** The receipts a verdict row stands for, in the order they are issued. */
export function verdictReceipts(
  v: Pick<
    VerdictReceipt,
    'type' | 'docKey' | 'orderNo' | 'returnStatus' | 'returnInfo' | 'reasons' | 'docVersion' | 'docs'
  >,
): Receipt[] {
  const on = (
    [type, docKey, docVersion]: [CebMessageType, string, number],
    returnStatus: number,
    returnInfo: string,
    reasons: CebProblem[] = [],
  ): Receipt => ({ type, docKey, orderNo: v.orderNo, returnStatus, returnInfo, reasons, docVersion })
  if (v.returnStatus === STATUS.REJECTED) return v.docs.map((d) => on(d, STATUS.REJECTED, v.returnInfo, v.reasons))
  const inventory: [CebMessageType, string, number] = [v.type, v.docKey, v.docVersion!]
  return [
    ...v.docs.map((d) => on(d, STATUS.PASSED, 'logic checks passed')),
    ...(v.returnStatus === STATUS.RELEASED
      ? [on(inventory, STATUS.ASSESSED, 'assessed'), on(inventory, STATUS.RELEASED, 'released')]
      : [on(inventory, v.returnStatus, v.returnInfo)]),
  ]
}

/** Receipt ids as the API shows them: a row's id times 8 plus the receipt's place among those it stands for (< 8). */
const RECEIPT_ID_SLOTS = 8

type ReceiptRow = {
  id: number
  type: CebMessageType
  doc_key: string
  order_no: string
  return_status: number
  return_info: string
  reasons: CebProblem[]
  doc_version: number | null
  sender: string | null
  docs: Array<[CebMessageType, string, number]> | null
  created_at: Date
}

/** The receipts of stored rows, oldest first, each with its API id, creation time and (intake's) sender. */
function receiptsOfRows(rows: ReceiptRow[]): Array<Receipt & { id: number; createdAt: string; by: string | null }> {
  return rows.flatMap((r) => {
    const base = {
      type: r.type,
      docKey: r.doc_key,
      orderNo: r.order_no,
      returnStatus: r.return_status,
      returnInfo: r.return_info,
      reasons: r.reasons,
      ...(r.doc_version === null ? {} : { docVersion: r.doc_version }),
    }
    const list = r.docs ? verdictReceipts({ ...base, docs: r.docs }) : [base]
    const createdAt = new Date(r.created_at).toISOString()
    return list.map((x, k) => ({ ...x, id: r.id * RECEIPT_ID_SLOTS + k, createdAt, by: r.sender }))
  })
}

const RECEIPT_COLUMNS =
  'id, type, doc_key, order_no, return_status, return_info, reasons, doc_version, sender, docs, created_at'

/**
 * Matches queued orders: for each, the documents present are verified together (DOMAIN §5 three-document
 * rules); a complete, consistent ticket passes the selectivity engine (green/blue → 399 then 800 released,
 * yellow → 300 manual review, red → 500 inspection); inconsistencies answer 100 with reasons. Rows are
 * taken with SKIP LOCKED, so several processes share the queue and each order gets one verdict per change.
 * Returns the number of orders processed.
 */
export async function matchQueued(deps: Deps, limit = 500): Promise<number> {
  const now = deps.clock.now()
  const sel = await selectivityState(deps.db, now)
  return withRetry(() =>
    deps.db.transaction(async (tx) => {
      const taken = await tx.query<{ id: number; order_no: string }>(
        'select id, order_no from ceb_match_queue order by id limit $1 for update skip locked',
        [limit],
      )
      if (taken.length === 0) return 0
      const queued = [...new Set(taken.map((r) => r.order_no))]
      await matchOrders(tx, sel, queued, now)
      await tx.query('delete from ceb_match_queue where id = any($1::bigint[])', [taken.map((r) => r.id)])
      return queued.length
    }),
  )
}

type StoredDoc = { type: CebMessageType; doc_key: string; order_no: string; body: Doc; version: number }
type TicketRow = { order_no: string; return_status: number; reasons: CebProblem[] }

/**
 * Verifies the given orders' documents together and records verdicts, receipts, tax bills and buyer totals.
 * `known`: documents of one type written in this transaction, so that type is not read back.
 */
async function matchOrders(
  tx: Tx,
  sel: Awaited<ReturnType<typeof selectivityState>>,
  orderNos: string[],
  now: Date,
  /** Intake's: the documents of one type written in this transaction, and the tickets it holds locked. */
  known?: { type: CebMessageType; docs: StoredDoc[]; tickets: TicketRow[] },
): Promise<void> {
  const nowIso = now.toISOString()
  const queued = [...orderNos].sort()
  // Lock the tickets before reading their documents (intake already holds them): a process matching the same
  // order waits here, then reads every document committed meanwhile.
  const ticketRows =
    known?.tickets ??
    (await tx.query<TicketRow>(
      'select order_no, return_status, reasons from ceb_tickets where order_no = any($1::text[]) order by order_no for update',
      [queued],
    ))
  const tickets = new Map(ticketRows.map((t) => [t.order_no, t]))
  const prevReasons = new Map(ticketRows.map((t) => [t.order_no, t.reasons]))
  const due = new Set(queued)
  const docs = [
    ...(known?.docs.filter((d) => due.has(d.order_no)) ?? []),
    ...(await tx.query<StoredDoc>(
      `select type, doc_key, order_no, body, version from ceb_documents where order_no = any($1::text[]) and not deleted and type <> $2 order by received_at, type, doc_key`,
      [queued, known?.type ?? ''],
    )),
  ]
  const byOrder = new Map<string, typeof docs>()
  for (const d of docs) byOrder.set(d.order_no, [...(byOrder.get(d.order_no) ?? []), d])
  // Only the documents on the ticket count: held ones (their naming document missing) wait outside it.
  for (const [o, list] of byOrder) {
    const standing = ticketStanding(
      o,
      list.map((d) => ({ type: d.type, key: d.doc_key, head: d.body.head as unknown as PartyHead, joined: false })),
    )
    byOrder.set(
      o,
      list.filter((_, i) => standing[i]!.standing === 'joined'),
    )
  }
  const codes = [...new Set(docs.flatMap((d) => documentParties(d.type, d.body.head as unknown as PartyHead)))]
  // Registered, and in the role the document names where the registry knows the enterprise's CEB roles.
  const enterprises = partyRegistry(
    await tx.query<RegistryRow>(
      'select e.customs_code, p.roles from enterprises e left join ceb_parties p on p.enterprise_id = e.id where e.customs_code = any($1::text[])',
      [codes],
    ),
  )
  const buyers = [
    ...new Set(docs.flatMap((d) => (d.type === 'CEB621' ? [(d.body as Inventory).head.buyerIdNumber] : []))),
  ]
  const year = Number(chinaDay(now).slice(0, 4))
  const totals = new Map(
    (
      await tx.query<{ buyer_id_number: string; total: string }>(
        'select buyer_id_number, total from ceb_buyer_totals where buyer_id_number = any($1::text[]) and year = $2',
        [buyers, year],
      )
    ).map((r) => [r.buyer_id_number, r.total]),
  )
  const verdictRows: VerdictReceipt[] = []
  const bills: Array<{ orderNo: string; inventory: Inventory; tax: NonNullable<Verdict['tax']> }> = []
  const verdicts: Array<{
    orderNo: string
    status: number
    reasons: CebProblem[]
    complete: boolean
    buyer: string | null
    tax: string | null
    dutiable: string | null
    lane: string | null
  }> = []
  for (const orderNo of queued) {
    // A ticket past the logic checks is never judged again (its tax bill and the buyer's total stand).
    if (!tickets.has(orderNo) || settled(tickets.get(orderNo)!.return_status)) continue
    const list = byOrder.get(orderNo) ?? []
    const get = <T extends CebMessageType>(t: T) => list.find((d) => d.type === t)?.body as CebDocuments[T] | undefined
    const ticket = {
      order: get('CEB311') as Order | undefined,
      payment: get('CEB411') as Payment | undefined,
      waybill: get('CEB511') as Waybill | undefined,
      inventory: get('CEB621') as Inventory | undefined,
    }
    const verdict: Verdict = verifyTicket(ticket, {
      today: chinaDay(now),
      enterprises,
      waybillSeen: () => [],
      buyerYearTotal: (id) => totals.get(id) ?? '0',
      rates: DEFAULT_TAX_RATES,
    })
    const prior = tickets.get(orderNo)?.return_status
    if (!verdict.complete) {
      verdicts.push({
        orderNo,
        status: STATUS.RECEIVED,
        reasons: verdict.reasons,
        complete: false,
        buyer: null,
        tax: null,
        dutiable: null,
        lane: null,
      })
      continue
    }
    const inv = ticket.inventory!
    const invDoc = list.find((d) => d.type === 'CEB621')!
    let status: number = verdict.returnStatus === 120 ? STATUS.PASSED : STATUS.REJECTED
    let lane: string | null = null
    let info = verdict.reasons.map((r) => r.code).join(',')
    if (status === STATUS.PASSED) {
      const decision = decide({
        facts: inventoryFacts(inv),
        rules: sel.rules,
        params: sel.params,
        paramsVersion: sel.paramsVersion,
        declarationId: `${inv.head.agentCode}|${inv.head.copNo}`,
        window: sel.window,
      })
      lane = decision.lane
      const codes = decision.reasons.map((r) => r.code).join(',')
      if (decision.lane === 'RED') {
        status = STATUS.INSPECTION
        info = `inspection: ${codes}`
      } else if (decision.lane === 'YELLOW') {
        status = STATUS.REVIEW
        info = `manual review: ${codes}`
      } else {
        status = STATUS.RELEASED
        info = 'released'
        if (verdict.tax && tickets.get(orderNo)?.return_status !== STATUS.RELEASED) {
          bills.push({ orderNo, inventory: inv, tax: verdict.tax })
          // The buyer's next order in this batch is judged on the total with this one.
          const buyer = inv.head.buyerIdNumber
          if (buyer) totals.set(buyer, new Big(totals.get(buyer) ?? '0').plus(verdict.tax.dutiableValue).toFixed(2))
        }
      }
    }
    // The same verdict again (the order matched twice, or a change that changed nothing) issues no new
    // receipts; a rejection is answered again, since its reasons may have changed.
    if (
      prior !== status ||
      (status === STATUS.REJECTED && JSON.stringify(prevReasons.get(orderNo)) !== JSON.stringify(verdict.reasons))
    ) {
      verdictRows.push({
        type: 'CEB621',
        docKey: invDoc.doc_key,
        orderNo,
        returnStatus: status,
        returnInfo: info,
        reasons: status === STATUS.REJECTED ? verdict.reasons : [],
        docVersion: invDoc.version,
        docs: list.map((d) => [d.type, d.doc_key, d.version]),
      })
    }
    verdicts.push({
      orderNo,
      status,
      reasons: verdict.reasons,
      complete: true,
      buyer: inv.head.buyerIdNumber,
      tax: verdict.tax?.total ?? null,
      dutiable: verdict.tax?.dutiableValue ?? null,
      lane,
    })
  }
  await tx.query(
    `update ceb_tickets t set return_status = x.status, reasons = x.reasons, complete = x.complete, buyer_id_number = x.buyer,
       tax_total = x.tax, dutiable_value = x.dutiable, lane = x.lane, verdict_at = case when x.complete then $1::timestamptz else t.verdict_at end,
       released_at = case when x.status = 800 then coalesce(t.released_at, $1::timestamptz) else t.released_at end, updated_at = $1::timestamptz, version = t.version + 1
     from json_to_recordset($2::text::json) as x(order_no text, status int, reasons jsonb, complete boolean, buyer text, tax numeric, dutiable numeric, lane text)
     where t.order_no = x.order_no`,
    [
      nowIso,
      JSON.stringify(
        verdicts.map((v) => ({
          order_no: v.orderNo,
          status: v.status,
          reasons: v.reasons,
          complete: v.complete,
          buyer: v.buyer,
          tax: v.tax,
          dutiable: v.dutiable,
          lane: v.lane,
        })),
      ),
    ],
  )
  const released = verdicts.filter(
    (v) =>
      v.status === STATUS.RELEASED &&
      tickets.get(v.orderNo)?.return_status !== STATUS.RELEASED &&
      v.buyer &&
      v.dutiable,
  )
  if (released.length) {
    await tx.query(
      `insert into ceb_buyer_totals (buyer_id_number, year, total)
       select buyer, $1, sum(dutiable) from json_to_recordset($2::text::json) as x(buyer text, dutiable numeric) group by buyer order by buyer
       on conflict (buyer_id_number, year) do update set total = ceb_buyer_totals.total + excluded.total`,
      [year, JSON.stringify(released.map((v) => ({ buyer: v.buyer, dutiable: v.dutiable })))],
    )
  }
  await insertReceipts(tx, verdictRows, nowIso)
  await enqueueDeliveries(tx, verdictRows.flatMap(verdictReceipts), nowIso)
  await insertTaxBills(tx, bills, now)
  for (const v of verdicts) {
    if (v.complete && tickets.get(v.orderNo)?.return_status !== v.status) {
      appendAudit(tx, {
        at: now,
        actor: 'system:ceb',
        action: 'CEB_TICKET_VERDICT',
        entityType: 'ceb_ticket',
        entityId: v.orderNo,
        data: {
          from: tickets.get(v.orderNo)?.return_status ?? null,
          returnStatus: v.status,
          reasons: v.reasons.map((r) => r.code),
          lane: v.lane,
        },
      })
    }
  }
}

/**
 * Electronic tax bills (CEB816 TaxHeadRd / TaxListRd) of released inventories, each with an inventory
 * number (清单编号): customs office, China year, then 10 digits from `ceb_invt_seq` (unique, gaps allowed).
 */
async function insertTaxBills(
  tx: Tx,
  bills: Array<{ orderNo: string; inventory: Inventory; tax: NonNullable<Verdict['tax']> }>,
  now: Date,
) {
  if (!bills.length) return
  const year = Number(chinaDay(now).slice(0, 4))
  const seq = await tx.query<{ n: number }>("select nextval('ceb_invt_seq')::int8 as n from generate_series(1, $1)", [
    bills.length,
  ])
  const rows = bills.map((b, i) => {
    const office = b.inventory.head.customsCode.padStart(4, '0').slice(0, 4)
    const invtNo = `${office}${year}${String(seq[i]!.n).padStart(10, '0')}`
    const h = b.inventory.head
    return {
      order_no: b.orderNo,
      bill: {
        guid: h.guid,
        returnTime: cebTime(now),
        invtNo,
        taxNo: `${invtNo}01`,
        customsTax: b.tax.duty,
        valueAddedTax: b.tax.vat,
        consumptionTax: b.tax.consumption,
        status: '1',
        assureCode: h.assureCode,
        ebcCode: h.ebcCode,
        logisticsCode: h.logisticsCode,
        agentCode: h.agentCode,
        customsCode: h.customsCode,
        orderNo: h.orderNo,
        logisticsNo: h.logisticsNo,
        total: b.tax.total,
        fullRate: b.tax.fullRate,
        lines: b.tax.lines.map((l, j) => ({
          gnum: l.gnum ?? String(j + 1),
          gcode: l.gcode,
          taxPrice: new Big(l.value).toFixed(2),
          customsTax: l.duty,
          valueAddedTax: l.vat,
          consumptionTax: l.consumption,
        })),
      },
    }
  })
  await tx.query(
    `insert into ceb_tax_bills (order_no, bill, created_at) select order_no, bill, $1 from json_to_recordset($2::text::json) as x(order_no text, bill jsonb)
     on conflict (order_no) do nothing`,
    [now.toISOString(), JSON.stringify(rows)],
  )
}

/** CEB times: YYYYMMDDhhmmssSSS in China time. */
export const cebTime = (d: Date) =>
  china(d)
    .toISOString()
    .replace(/[-:T.Z]/g, '')
    .slice(0, 17)

/** A buyer's running total of released dutiable value in a calendar year (the ¥26,000 limit). */
export async function buyerTotal(db: Queryable, buyerIdNumber: string, year: number): Promise<string> {
  const [r] = await db.query<{ total: string }>(
    'select total from ceb_buyer_totals where buyer_id_number = $1 and year = $2',
    [buyerIdNumber, year],
  )
  return r?.total ?? '0.00'
}

export async function taxBillOf(db: Queryable, orderNo: string): Promise<Record<string, unknown> | undefined> {
  const [r] = await db.query<{ bill: Record<string, unknown> }>('select bill from ceb_tax_bills where order_no = $1', [
    orderNo,
  ])
  return r?.bill
}

/** Dutiable value of an inventory (goods + freight + insurance), for the selectivity facts. */
const dutiableOf = (inv: Inventory) =>
  inv.lines
    .reduce((s, l) => s.plus(safe(l.totalPrice)), new Big(safe(inv.head.freight)).plus(safe(inv.head.insuredFee)))
    .toFixed(2)
const safe = (x: string | undefined) => (x && /^\d+(\.\d+)?$/.test(x) ? x : '0')

/** What the selectivity rules see of an inventory: CEB 10-digit codes, old-code countries, CNY values. */
function inventoryFacts(inv: Inventory): Facts {
  const total = dutiableOf(inv)
  return {
    traderCredit: 'REGULAR',
    header: {
      ieFlag: 'I',
      tradeMode: inv.head.tradeMode,
      transportMode: inv.head.trafMode,
      tradeCountry: inv.head.country,
      customsDistrict: inv.head.customsCode,
      iePort: inv.head.portCode,
      currency: 'CNY',
      traderCode: inv.head.ebcCode,
      declarantCode: inv.head.agentCode,
      totalValueCny: Number(total),
      grossMassKg: Number(inv.head.grossWeight),
      packages: Number(inv.head.packNo),
      itemCount: inv.lines.length,
    },
    items: inv.lines.map((l) => ({
      hsCode: l.gcode,
      originCountry: l.country,
      unit: l.unit,
      quantity: Number(l.qty),
      description: l.gname,
      itemValueCny: Number(l.totalPrice),
      unitValueCny: Number(l.qty) > 0 ? Number(l.totalPrice) / Number(l.qty) : 0,
    })),
  }
}

const RECEIPT_KIND = { CEB311: 'CEB312', CEB411: 'CEB412', CEB511: 'CEB512', CEB621: 'CEB622' } as const

/**
 * Receipts of one order as the spec's receipt messages (CEB312/412/512/622): for each document type
 * present, its receipts with the document's identifying fields, in CEB time (YYYYMMDDhhmmssSSS, China).
 */
export async function receiptMessages(
  db: Queryable,
  orderNo: string,
): Promise<Array<{ kind: 'CEB312' | 'CEB412' | 'CEB512' | 'CEB622'; receipts: Array<Record<string, string>> }>> {
  const [rows, docs, bill] = await Promise.all([
    db.query<ReceiptRow>(`select ${RECEIPT_COLUMNS} from ceb_receipts where order_no = $1 order by id`, [orderNo]),
    db.query<{ type: CebMessageType; doc_key: string; body: Doc }>(
      'select type, doc_key, body from ceb_documents where order_no = $1',
      [orderNo],
    ),
    db.query<{ invt_no: string | null }>(`select bill ->> 'invtNo' as invt_no from ceb_tax_bills where order_no = $1`, [
      orderNo,
    ]),
  ])
  const bodies = new Map(docs.map((d) => [`${d.type}|${d.doc_key}`, d.body]))
  const invtNo = bill[0]?.invt_no
  const out = new Map<string, Array<Record<string, string>>>()
  for (const r of receiptsOfRows(rows)) {
    // Receipts of refused documents (nothing stored) have no identifying fields to show.
    const body = bodies.get(`${r.type}|${r.docKey}`)
    if (!body) continue
    const h = body.head as unknown as Record<string, string>
    const common = {
      guid: h.guid!,
      returnStatus: String(r.returnStatus),
      returnTime: cebTime(new Date(r.createdAt)),
      returnInfo: r.returnInfo || '-',
    }
    const ids: Record<CebMessageType, Record<string, string>> = {
      CEB311: { ebpCode: h.ebpCode!, ebcCode: h.ebcCode!, orderNo: h.orderNo! },
      CEB411: { payCode: h.payCode!, payTransactionId: h.payTransactionId! },
      CEB511: { logisticsCode: h.logisticsCode!, logisticsNo: h.logisticsNo! },
      CEB621: {
        customsCode: h.customsCode!,
        ebpCode: h.ebpCode!,
        ebcCode: h.ebcCode!,
        agentCode: h.agentCode!,
        copNo: h.copNo!,
        preNo: h.preNo || '-',
        ...(invtNo ? { invtNo } : {}),
      },
    }
    const kind = RECEIPT_KIND[r.type]
    out.set(kind, [...(out.get(kind) ?? []), { ...common, ...ids[r.type] }])
  }
  return [...out].map(([kind, receipts]) => ({ kind: kind as 'CEB312' | 'CEB412' | 'CEB512' | 'CEB622', receipts }))
}

/**
 * Receipts of one order, oldest first (what an enterprise polls). Without `viewer`, all (officers). An enterprise
 * (`viewer`, its customs code) sees the receipts of each stored document it is a party of (named in it, or its
 * sender) and the refusals of its own messages (nothing stored); the ticket's platform (the order's ebpCode) and its
 * declaring agent (the joined inventory's agentCode) see every document on the ticket — not the refusals of
 * documents that never joined it, which only their own parties see.
 */
export async function receiptsOf(
  db: Queryable,
  orderNo: string,
  viewer?: string,
): Promise<Array<Receipt & { id: number; createdAt: string }>> {
  const rows = await db.query<ReceiptRow>(
    `select ${RECEIPT_COLUMNS} from ceb_receipts where order_no = $1 order by id`,
    [orderNo],
  )
  const all = receiptsOfRows(rows)
  const shown = (list: typeof all) =>
    list.map(({ id, type, docKey, orderNo, returnStatus, returnInfo, reasons, createdAt }) => ({
      id,
      type,
      docKey,
      orderNo,
      returnStatus,
      returnInfo,
      reasons,
      createdAt,
    }))
  if (viewer === undefined) return shown(all)
  const docs = await db.query<StoredRow>(`select ${HEAD_COLUMNS} from ${HEAD_FROM} where d.order_no = $1`, [orderNo])
  const stored = new Map(docs.map(storedOf).map((d) => [`${d.type}|${d.doc_key}`, d]))
  // The documents on the ticket now: live ones, as the party rules stand them (first come first).
  const liveDocs = [...stored.values()].filter((d) => !d.deleted).sort(byArrival)
  const standing = ticketStanding(
    orderNo,
    liveDocs.map((r) => ({ type: r.type, key: r.doc_key, head: r.head, joined: false })),
  )
  const live = (t: CebMessageType) => liveDocs.find((r, i) => r.type === t && standing[i]!.standing === 'joined')?.head
  const whole = live('CEB311')?.ebpCode === viewer || live('CEB621')?.agentCode === viewer
  return shown(
    all.filter((r) => {
      const d = stored.get(`${r.type}|${r.docKey}`)
      // A refusal of a message (nothing stored): its sender's alone.
      if (r.docVersion === undefined || !d) return r.by === viewer
      if (d.sender === viewer || documentParties(r.type, d.head).includes(viewer)) return true
      return whole && d.standing !== 'refused'
    }),
  )
}

/** An enterprise's CEB roles as the registry holds them; `roles` null: not recorded (registration alone counts). */
export interface PartyRoles {
  enterpriseId: string
  customsCode: string
  roles: EnterpriseRole[] | null
  updatedAt: string | null
  updatedBy: string | null
}

export async function partyRoles(db: Queryable, customsCode: string): Promise<PartyRoles | undefined> {
  const [r] = await db.query<{
    id: string
    customs_code: string
    roles: EnterpriseRole[] | null
    updated_at: Date | null
    updated_by: string | null
  }>(
    'select e.id, e.customs_code, p.roles, p.updated_at, p.updated_by from enterprises e left join ceb_parties p on p.enterprise_id = e.id where e.customs_code = $1',
    [customsCode],
  )
  return (
    r && {
      enterpriseId: r.id,
      customsCode: r.customs_code,
      roles: r.roles,
      updatedAt: r.updated_at && new Date(r.updated_at).toISOString(),
      updatedBy: r.updated_by,
    }
  )
}

/**
 * Records an enterprise's CEB roles (replacing what was recorded; an empty list: no role, so it can send no CEB
 * document). Audited. Undefined when no enterprise has the customs code.
 */
export async function setPartyRoles(
  deps: { db: Db; clock: Clock },
  customsCode: string,
  roles: EnterpriseRole[],
  actor: string,
): Promise<PartyRoles | undefined> {
  const now = deps.clock.now().toISOString()
  const sorted = [...new Set(roles)].sort()
  return deps.db.transaction(async (tx) => {
    const before = await partyRoles(tx, customsCode)
    if (!before) return undefined
    await tx.query(
      `insert into ceb_parties (enterprise_id, roles, updated_at, updated_by) values ($1, $2::text[], $3, $4)
       on conflict (enterprise_id) do update set roles = excluded.roles, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      [before.enterpriseId, sorted, now, actor],
    )
    appendAudit(tx, {
      at: deps.clock.now(),
      actor,
      action: 'CEB_PARTY_ROLES_SET',
      entityType: 'enterprise',
      entityId: before.enterpriseId,
      data: { customsCode, from: before.roles, to: sorted },
    })
    return { ...before, roles: sorted, updatedAt: now, updatedBy: actor }
  })
}
