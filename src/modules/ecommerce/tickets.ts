import type { Queryable } from '../../db/index.js'
import { documentParties, ticketStanding, type PartyHead } from './parties.js'
import type { CebMessageType, CebProblem, TicketDetail, TicketDocument, TicketSummary } from './types.js'

export type { TicketDetail, TicketDocument, TicketSummary }

/**
 * Reads of tickets for the operations view and the portal: the list (officers: all; an enterprise: the tickets it is a
 * party of) and one ticket with its documents' key fields. Who is a party follows {@link receiptsOf}: an enterprise is
 * a party of a ticket when it sent or is named in one of its stored documents (documentParties); it sees the fields of
 * those documents, and the ticket's platform (the joined order's ebpCode) and declaring agent (the joined inventory's
 * agentCode) see every document on the ticket. Refusals of messages that stored nothing make no one a party.
 */

export interface TicketFilter {
  returnStatus?: number | undefined
  complete?: boolean | undefined
  since?: string | undefined
  until?: string | undefined
  limit: number
  offset: number
}

const BITS: Array<[CebMessageType, number]> = [
  ['CEB311', 1],
  ['CEB411', 2],
  ['CEB511', 4],
  ['CEB621', 8],
]

/** The key fields of each document's head, as the CEB specs name them (reference-data/ceb/ceb_import_fields.csv). */
export const KEY_FIELDS: Record<CebMessageType, readonly string[]> = {
  CEB311: [
    'guid',
    'appType',
    'appTime',
    'orderType',
    'orderNo',
    'ebpCode',
    'ebpName',
    'ebcCode',
    'ebcName',
    'payCode',
    'payName',
    'payTransactionId',
    'goodsValue',
    'freight',
    'discount',
    'taxTotal',
    'acturalPaid',
    'currency',
    'buyerName',
    'buyerIdType',
    'buyerIdNumber',
    'consignee',
    'consigneeAddress',
  ],
  CEB411: [
    'guid',
    'appType',
    'appTime',
    'payCode',
    'payName',
    'payTransactionId',
    'orderNo',
    'ebpCode',
    'ebpName',
    'payerIdType',
    'payerIdNumber',
    'payerName',
    'amountPaid',
    'currency',
    'payTime',
  ],
  CEB511: [
    'guid',
    'appType',
    'appTime',
    'logisticsCode',
    'logisticsName',
    'logisticsNo',
    'billNo',
    'orderNo',
    'freight',
    'insuredFee',
    'currency',
    'weight',
    'packNo',
    'goodsInfo',
    'consignee',
    'consigneeAddress',
  ],
  CEB621: [
    'guid',
    'appType',
    'appTime',
    'orderNo',
    'copNo',
    'preNo',
    'invtNo',
    'ebpCode',
    'ebpName',
    'ebcCode',
    'ebcName',
    'logisticsCode',
    'logisticsName',
    'logisticsNo',
    'agentCode',
    'agentName',
    'assureCode',
    'customsCode',
    'portCode',
    'declTime',
    'ieFlag',
    'tradeMode',
    'trafMode',
    'country',
    'buyerName',
    'buyerIdType',
    'buyerIdNumber',
    'freight',
    'insuredFee',
    'currency',
    'packNo',
    'grossWeight',
    'netWeight',
  ],
}

/** The key fields of goods lines (CEB311 OrderList, CEB621 InventoryList). */
export const LINE_FIELDS: Partial<Record<CebMessageType, readonly string[]>> = {
  CEB311: ['gnum', 'itemNo', 'itemName', 'gmodel', 'unit', 'qty', 'price', 'totalPrice', 'currency', 'country'],
  CEB621: ['gnum', 'itemNo', 'gcode', 'gname', 'gmodel', 'country', 'qty', 'unit', 'price', 'totalPrice', 'currency'],
}

const pick = (from: Record<string, unknown> | undefined, keys: readonly string[]) => {
  const out: Record<string, string> = {}
  for (const k of keys) {
    const v = from?.[k]
    if (typeof v === 'string' && v !== '') out[k] = v
  }
  return out
}

/**
 * SQL condition: `$n` (a customs code) sent or is named in a stored document of ticket `t` (deleted documents
 * included, as receiptsOf counts them), the fields each type names as in {@link documentParties}.
 */
const partyOf = (
  n: number,
) => `exists (select 1 from ceb_documents d where d.order_no = t.order_no and (d.sender = $${n}
  or case d.type when 'CEB311' then $${n} in (d.ebp, d.ebc, d.pay) when 'CEB411' then $${n} in (d.pay, d.ebp)
    when 'CEB511' then d.logistics = $${n} else $${n} in (d.ebp, d.ebc, d.logistics, d.agent, d.assure) end))`

type TicketRow = {
  order_no: string
  return_status: number
  reasons: CebProblem[]
  complete: boolean
  present: number
  lane: string | null
  tax_total: string | null
  dutiable_value: string | null
  created_at: Date
  updated_at: Date
  verdict_at: Date | null
  released_at: Date | null
}
const TICKET_COLUMNS = `t.order_no, t.return_status, t.reasons, t.complete, t.present, t.lane, t.tax_total::text as tax_total,
  t.dutiable_value::text as dutiable_value, t.created_at, t.updated_at, t.verdict_at, t.released_at`
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null)
const summaryOf = (r: TicketRow): TicketSummary => ({
  orderNo: r.order_no,
  returnStatus: r.return_status,
  reasons: r.reasons,
  complete: r.complete,
  present: BITS.filter(([, b]) => (r.present & b) !== 0).map(([t]) => t),
  lane: r.lane,
  createdAt: iso(r.created_at)!,
  updatedAt: iso(r.updated_at)!,
  verdictAt: iso(r.verdict_at),
  releasedAt: iso(r.released_at),
})

/**
 * Tickets, newest first (by creation, then order number), filtered and paged, with the total matching the filter.
 * `viewer`: an enterprise's customs code (only tickets it is a party of); undefined: all (officers).
 */
export async function listTickets(
  db: Queryable,
  filter: TicketFilter,
  viewer?: string,
): Promise<{ items: TicketSummary[]; total: number }> {
  const where: string[] = []
  const params: Array<string | number | boolean> = []
  const add = (sql: (n: number) => string, v: string | number | boolean) => {
    params.push(v)
    where.push(sql(params.length))
  }
  if (filter.returnStatus !== undefined) add((n) => `t.return_status = $${n}`, filter.returnStatus)
  if (filter.complete !== undefined) add((n) => `t.complete = $${n}`, filter.complete)
  if (filter.since !== undefined) add((n) => `t.created_at >= $${n}::timestamptz`, filter.since)
  if (filter.until !== undefined) add((n) => `t.created_at < $${n}::timestamptz`, filter.until)
  if (viewer !== undefined) add(partyOf, viewer)
  const cond = where.length ? `where ${where.join(' and ')}` : ''
  const [rows, [count]] = await Promise.all([
    db.query<TicketRow>(
      `select ${TICKET_COLUMNS} from ceb_tickets t ${cond} order by t.created_at desc, t.order_no desc
       limit $${params.length + 1} offset $${params.length + 2}`,
      [...params, filter.limit, filter.offset],
    ),
    db.query<{ n: number }>(`select count(*)::int as n from ceb_tickets t ${cond}`, params),
  ])
  return { items: rows.map(summaryOf), total: count!.n }
}

type DocRow = {
  type: CebMessageType
  doc_key: string
  version: number
  deleted: boolean
  standing: 'joined' | 'refused'
  sender: string
  received_at: Date
  updated_at: Date
  body: { head: Record<string, unknown>; lines?: Array<Record<string, unknown>> }
}

/**
 * One ticket with its documents (newest version of each, deleted ones included, by arrival). Undefined when there is
 * no such ticket or `viewer` (an enterprise's customs code) is no party of it.
 */
export async function ticketOf(db: Queryable, orderNo: string, viewer?: string): Promise<TicketDetail | undefined> {
  const [ticket] = await db.query<TicketRow>(
    `select ${TICKET_COLUMNS} from ceb_tickets t where t.order_no = $1${viewer === undefined ? '' : ` and ${partyOf(2)}`}`,
    viewer === undefined ? [orderNo] : [orderNo, viewer],
  )
  if (!ticket) return undefined
  const docs = await db.query<DocRow>(
    `select type, doc_key, version, deleted, standing, sender, received_at, updated_at, body from ceb_documents
     where order_no = $1 order by received_at, type, doc_key`,
    [orderNo],
  )
  const head = (d: DocRow) => d.body.head as PartyHead
  // How the live documents stand now, first come first (as intake and receiptsOf stand them).
  const live = docs.filter((d) => !d.deleted)
  const standing = ticketStanding(
    orderNo,
    live.map((d) => ({ type: d.type, key: d.doc_key, head: head(d), joined: false })),
  )
  const standingOf = new Map(live.map((d, i) => [d, standing[i]!.standing]))
  const joined = (t: CebMessageType) => live.find((d) => d.type === t && standingOf.get(d) === 'joined')
  const order = joined('CEB311')
  const inventory = joined('CEB621')
  const whole = (order && head(order).ebpCode === viewer) || (inventory && head(inventory).agentCode === viewer)
  return {
    ...summaryOf(ticket),
    taxTotal: ticket.tax_total,
    dutiableValue: ticket.dutiable_value,
    documents: docs.map((d) => {
      const sees =
        viewer === undefined ||
        d.sender === viewer ||
        documentParties(d.type, head(d)).includes(viewer) ||
        (whole && d.standing !== 'refused')
      const lineKeys = LINE_FIELDS[d.type]
      return {
        type: d.type,
        docKey: d.doc_key,
        version: d.version,
        deleted: d.deleted,
        standing: d.deleted ? d.standing : (standingOf.get(d) ?? 'joined'),
        sender: sees ? d.sender : null,
        receivedAt: iso(d.received_at)!,
        updatedAt: iso(d.updated_at)!,
        fields: sees ? pick(d.body.head, KEY_FIELDS[d.type]) : null,
        lines: sees ? (lineKeys ? (d.body.lines ?? []).map((l) => pick(l, lineKeys)) : []) : null,
      }
    }),
  }
}
