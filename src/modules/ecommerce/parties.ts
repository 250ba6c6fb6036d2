import type { EnterpriseRole } from './rules.js'
import type { CebMessageType } from './types.js'

/**
 * Who may put a document on a ticket (issue 10, finding 1). Pure: plain data in, decisions out.
 *
 * A ticket is what its order (CEB311) says: the order names the platform (ebpCode), the e-commerce enterprise
 * (ebcCode) and the payment enterprise (payCode); the inventory (CEB621), whose platform and e-commerce enterprise
 * must be the order's, names the declaring agent (agentCode) and the logistics enterprise (logisticsCode). A document
 * joins the ticket only when its sender holds the role the ticket names for it:
 *
 * - CEB311 order: sent by the ebp or ebc it names (the order defines the ticket);
 * - CEB411 payment: its payCode is the order's payCode (an order that names none accepts no payment) and its ebpCode
 *   the order's platform;
 * - CEB621 inventory: sent by its agent or ebc, and its ebpCode and ebcCode are the order's;
 * - CEB511 waybill: its logisticsCode is the joined inventory's.
 *
 * A document whose naming document has not arrived is held (stored, received, but no presence bit, never matched);
 * when the naming document arrives it joins or is refused. A ticket has one document of each type: a second one from
 * a named party is refused (CEB_TICKET_HAS_DOCUMENT), the document already on the ticket keeps its place.
 */

/** Refusal codes of the party rules (receipt reasons, returnStatus 100). Stable. */
export const PARTY_CODES = {
  CEB_PARTY_NOT_NAMED:
    'The sender is not the party the ticket names for this document (payCode of the order, ebpCode/ebcCode of the order on the inventory, logisticsCode of the inventory), or not a party of the stored document it changes.',
  CEB_SENDER_ROLE:
    'The sending enterprise is registered with CEB roles that do not include the role it sends this document in.',
  CEB_TICKET_HAS_DOCUMENT:
    'The ticket already holds a document of this type; modify (appType 2) or delete (appType 3) it first.',
  CEB_TICKET_SETTLED:
    'The ticket has a verdict past the logic checks (300 manual review, 399/800 released, 500 inspection); its documents can no longer change or be added.',
} as const
export type PartyCode = keyof typeof PARTY_CODES

/** The party fields of a document head (a subset of each message's head). */
export interface PartyHead {
  ebpCode?: string | undefined
  ebcCode?: string | undefined
  payCode?: string | undefined
  logisticsCode?: string | undefined
  agentCode?: string | undefined
  assureCode?: string | undefined
}

const HEAD: Record<CebMessageType, string> = {
  CEB311: 'OrderHead',
  CEB411: 'PaymentHead',
  CEB511: 'LogisticsHead',
  CEB621: 'InventoryHead',
}
/** Pointer of a head field in receipts, e.g. `/CEB411/PaymentHead/payCode`. */
export const fieldPointer = (type: CebMessageType, field: string) => `/${type}/${HEAD[type]}/${field}`

/** The roles in which `code` sends document `head` of `type` (empty: it is no sender of this document). */
export function senderRoles(type: CebMessageType, head: PartyHead, code: string): EnterpriseRole[] {
  const roles: EnterpriseRole[] = []
  const is = (v: string | undefined, role: EnterpriseRole) => {
    if (v && v === code) roles.push(role)
  }
  switch (type) {
    case 'CEB311':
      is(head.ebpCode, 'ebp')
      is(head.ebcCode, 'ebc')
      break
    case 'CEB411':
      is(head.payCode, 'pay')
      break
    case 'CEB511':
      is(head.logisticsCode, 'logistics')
      break
    case 'CEB621':
      is(head.agentCode, 'agent')
      is(head.ebcCode, 'ebc')
      break
  }
  return roles
}

/** The field naming the sender of a document, for pointers. */
export function senderField(type: CebMessageType, head: PartyHead, code: string): string {
  switch (type) {
    case 'CEB311':
      return head.ebpCode === code ? 'ebpCode' : 'ebcCode'
    case 'CEB411':
      return 'payCode'
    case 'CEB511':
      return 'logisticsCode'
    case 'CEB621':
      return head.agentCode === code ? 'agentCode' : 'ebcCode'
  }
}

/** Every enterprise a document names: they (and its sender) see its receipts. */
export function documentParties(type: CebMessageType, head: PartyHead): string[] {
  const fields: Array<keyof PartyHead> =
    type === 'CEB311'
      ? ['ebpCode', 'ebcCode', 'payCode']
      : type === 'CEB411'
        ? ['payCode', 'ebpCode']
        : type === 'CEB511'
          ? ['logisticsCode']
          : ['ebpCode', 'ebcCode', 'logisticsCode', 'agentCode', 'assureCode']
  return fields.flatMap((f) => (head[f] ? [head[f]!] : []))
}

/** A registry row: an enterprise's customs code and its CEB roles (null: roles unknown, registration alone counts). */
export interface RegistryRow {
  customs_code: string
  roles: string[] | null
}

/**
 * The `enterprises` look-up of {@link import('./rules.js').VerifyContext} from registry rows: registered, and in `role`
 * where the registry knows the enterprise's roles. The one the matching uses; tests use it too, not a stub.
 */
export function partyRegistry(rows: readonly RegistryRow[]): (code: string, role: EnterpriseRole) => boolean {
  const byCode = new Map(rows.map((r) => [r.customs_code, r.roles]))
  return (code, role) => {
    if (!byCode.has(code)) return false
    const roles = byCode.get(code)
    return roles === null || roles === undefined || roles.includes(role)
  }
}

/** A document of one ticket, as the party rules see it. */
export interface PartyDoc {
  type: CebMessageType
  key: string
  head: PartyHead
  /** It counted on the ticket before this change (it keeps its place against newcomers of its type). */
  joined: boolean
}

export type Standing =
  | { standing: 'joined' }
  | { standing: 'held'; because: string }
  | { standing: 'refused'; code: PartyCode; message: string; pointer: string }

/**
 * Standing of each live document of one ticket (same order as `docs`; incumbents first within a type is the
 * caller's order, else first come): joined, held (its naming document is missing) or refused.
 */
export function ticketStanding(orderNo: string, docs: readonly PartyDoc[]): Standing[] {
  const out: Standing[] = new Array(docs.length)
  const byType = (t: CebMessageType) =>
    docs
      .map((d, i) => ({ d, i }))
      .filter((x) => x.d.type === t)
      .sort((a, b) => Number(b.d.joined) - Number(a.d.joined) || a.i - b.i)
  const refuse = (i: number, code: PartyCode, field: string, message: string) => {
    out[i] = { standing: 'refused', code, message, pointer: fieldPointer(docs[i]!.type, field) }
  }
  /** One document per type: the first named candidate joins, later named ones are refused. */
  const fill = (
    type: CebMessageType,
    field: string,
    named: (h: PartyHead) => [field: string, why: string] | undefined,
  ) => {
    let taken: PartyDoc | undefined
    for (const { d, i } of byType(type)) {
      const not = named(d.head)
      if (not) refuse(i, 'CEB_PARTY_NOT_NAMED', not[0], not[1])
      else if (taken)
        refuse(
          i,
          'CEB_TICKET_HAS_DOCUMENT',
          field,
          `order ${orderNo} already has ${type} ${taken.key}; modify (appType 2) or delete (appType 3) it first`,
        )
      else {
        out[i] = { standing: 'joined' }
        taken = d
      }
    }
    return taken
  }
  const hold = (type: CebMessageType, because: string) => {
    for (const { i } of byType(type)) out[i] = { standing: 'held', because }
  }

  const order = fill('CEB311', 'orderNo', () => undefined)?.head
  if (!order) {
    for (const t of ['CEB411', 'CEB511', 'CEB621'] as const)
      hold(t, `waiting for order ${orderNo} (CEB311), which names the ticket's parties`)
    return out
  }
  fill('CEB411', 'payTransactionId', (h) =>
    !order.payCode
      ? ['payCode', `order ${orderNo} names no payment enterprise (payCode), so no payment can join it`]
      : h.payCode !== order.payCode
        ? ['payCode', `order ${orderNo} names payment enterprise ${order.payCode}, not ${h.payCode}`]
        : h.ebpCode !== order.ebpCode
          ? ['ebpCode', `order ${orderNo} is of platform ${order.ebpCode}, not ${h.ebpCode}`]
          : undefined,
  )
  const inventory = fill('CEB621', 'copNo', (h) =>
    h.ebpCode !== order.ebpCode
      ? ['ebpCode', `order ${orderNo} is of platform ${order.ebpCode}, not ${h.ebpCode}`]
      : h.ebcCode !== order.ebcCode
        ? ['ebcCode', `order ${orderNo} is of e-commerce enterprise ${order.ebcCode}, not ${h.ebcCode}`]
        : undefined,
  )?.head
  if (!inventory)
    hold('CEB511', `waiting for the inventory (CEB621) of order ${orderNo}, which names the logistics enterprise`)
  else {
    fill('CEB511', 'logisticsNo', (h) =>
      h.logisticsCode !== inventory.logisticsCode
        ? [
            'logisticsCode',
            `the inventory of order ${orderNo} names logistics enterprise ${inventory.logisticsCode}, not ${h.logisticsCode}`,
          ]
        : undefined,
    )
  }
  return out
}

/**
 * Whether a document of `type` from a named party could join now, given the ticket's joined order and inventory
 * heads: undefined when it could (or the naming document is missing: it will be held), else the refusal. Used
 * before anything else so an outsider learns nothing about the ticket's state.
 */
export function notNamed(
  orderNo: string,
  type: CebMessageType,
  head: PartyHead,
  order: PartyHead | undefined,
  inventory: PartyHead | undefined,
): Standing | undefined {
  if (type === 'CEB311' || !order) return undefined
  if (type === 'CEB511' && !inventory) return undefined
  const docs: PartyDoc[] = [{ type: 'CEB311', key: 'order', head: order, joined: true }]
  if (type === 'CEB511') docs.push({ type: 'CEB621', key: 'inventory', head: inventory!, joined: true })
  docs.push({ type, key: 'candidate', head, joined: false })
  const s = ticketStanding(orderNo, docs).at(-1)!
  return s.standing === 'refused' && s.code === 'CEB_PARTY_NOT_NAMED' ? s : undefined
}

/** Receipt statuses after which a ticket is never judged again (DOMAIN §5: 300, 399, 500, 800 and later). */
export const settled = (returnStatus: number | undefined) => returnStatus !== undefined && returnStatus >= 300
