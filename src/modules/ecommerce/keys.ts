import { canonicalJson } from '../../shared/signing.js'
import type { CebDocuments, CebMessage, CebMessageType, Inventory, Order, Payment, Waybill } from './types.js'

type AnyDoc = CebDocuments[CebMessageType]

/**
 * Business key of a document, unique per message type (DOMAIN §5 receipts): order ebpCode + orderNo,
 * payment payCode + payTransactionId, waybill logisticsCode + logisticsNo, inventory agentCode + copNo.
 */
export function docKey(type: CebMessageType, d: AnyDoc): string {
  switch (type) {
    case 'CEB311': {
      const h = (d as Order).head
      return `${h.ebpCode}|${h.orderNo}`
    }
    case 'CEB411': {
      const h = (d as Payment).head
      return `${h.payCode}|${h.payTransactionId}`
    }
    case 'CEB511': {
      const h = (d as Waybill).head
      return `${h.logisticsCode}|${h.logisticsNo}`
    }
    case 'CEB621': {
      const h = (d as Inventory).head
      return `${h.agentCode}|${h.copNo}`
    }
  }
}

/** The order a document belongs to: the ticket is keyed by order number (waybills carry nothing else). */
export const orderNoOf = (d: AnyDoc): string => d.head.orderNo

/** appType: 1 new, 2 modify, 3 delete. */
export const appTypeOf = (d: AnyDoc): string => d.head.appType

/** Enterprise codes entitled to send a document: the party the message speaks for. */
export function senderCodes(type: CebMessageType, d: AnyDoc): string[] {
  switch (type) {
    case 'CEB311': {
      const h = (d as Order).head
      return [h.ebpCode, h.ebcCode]
    }
    case 'CEB411':
      return [(d as Payment).head.payCode]
    case 'CEB511':
      return [(d as Waybill).head.logisticsCode]
    case 'CEB621': {
      const h = (d as Inventory).head
      return [h.agentCode, h.ebcCode]
    }
  }
}

/** Pointer prefix of a document head in receipts and problems, e.g. `/CEB311/OrderHead`. */
export const HEAD_NAME: Record<CebMessageType, string> = {
  CEB311: 'OrderHead',
  CEB411: 'PaymentHead',
  CEB511: 'LogisticsHead',
  CEB621: 'InventoryHead',
}

/**
 * `canonicalJson(message)` from its documents' canonical forms: the message without documents is canonicalised
 * and the documents array spliced in at its key. Only `"documents":[]` of the top level can appear verbatim: a
 * string value would escape its quotes, and no nested object of a message has a `documents` key.
 */
export function messageCanonicalJson(message: CebMessage, documents: string[]): string {
  const shell = canonicalJson({ ...message, documents: [] })
  const at = shell.indexOf('"documents":[]')
  return `${shell.slice(0, at)}"documents":[${documents.join(',')}]${shell.slice(at + 14)}`
}
