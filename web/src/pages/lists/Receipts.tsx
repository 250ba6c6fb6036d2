import type { TicketSummary } from '../../../../src/modules/ecommerce/types.js'
import { api } from '../../api.js'
import { Async, Empty, useAsync } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime } from '../../lib/format.js'
import { useQuery } from '../../router.js'

/** A receipt as GET /ceb/orders/{orderNo}/receipts answers it. */
export interface CebReceipt {
  id: number
  type: string
  docKey: string
  orderNo: string
  returnStatus: number
  returnInfo: string
  reasons: Array<{ code: string; message: string; pointer: string }>
  createdAt: string
}

/** A ticket as GET /ceb/orders lists it. */
export type { TicketSummary }

export const DOC_TYPES = ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const
export const RETURN_STATUSES = [2, 100, 120, 300, 399, 500, 800] as const

export const receiptsOf = (orderNo: string) =>
  api<{ items: CebReceipt[] }>('GET', `/api/v1/ceb/orders/${encodeURIComponent(orderNo)}/receipts`).then((r) => r.items)

/** A CEB return status as a badge: the number and its words. */
export function StatusBadge({ status }: { status: number }) {
  const { t } = useT()
  return (
    <span className={`badge rc-${status} lists-rc-${status < 120 ? (status === 100 ? 'bad' : 'wait') : 'ok'}`}>
      {status} {t(`rcpt.${status}`)}
    </span>
  )
}

/** Receipts, oldest first: time, document, status, information and reasons. */
export function ReceiptTable({
  items,
  caption,
  compact,
}: {
  items: CebReceipt[]
  caption: string
  /** Receipts of one document: no document column. */
  compact?: boolean
}) {
  const { t } = useT()
  return (
    <table className="grid lists-receipts">
      <caption className="sr-only">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t('rcpt.time')}</th>
          {!compact && <th scope="col">{t('rcpt.type')}</th>}
          <th scope="col">{t('rcpt.status')}</th>
          <th scope="col">{t('rcpt.info')}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((r) => (
          <tr key={r.id} data-receipt={`${r.type}:${r.returnStatus}`}>
            <td className={compact ? 'lists-nowrap' : undefined}>
              {compact ? (
                <time dateTime={r.createdAt} title={chinaTime(r.createdAt)}>
                  {chinaTime(r.createdAt).slice(5)}
                </time>
              ) : (
                chinaTime(r.createdAt)
              )}
            </td>
            {!compact && (
              <td>
                {r.type} <small>{r.docKey}</small>
              </td>
            )}
            <td>
              <StatusBadge status={r.returnStatus} />
            </td>
            <td>
              {r.returnInfo}
              {r.reasons.length > 0 && (
                <ul>
                  {r.reasons.map((x, i) => (
                    <li key={i}>
                      <code>{x.code}</code> {x.message} <small>{x.pointer}</small>
                    </li>
                  ))}
                </ul>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** The receipts of one order, loaded when shown (the portal's expander). */
export function OrderReceipts({ orderNo }: { orderNo: string }) {
  const { t } = useT()
  const state = useAsync(() => receiptsOf(orderNo), [orderNo])
  return (
    <Async state={state}>
      {(items) =>
        items.length === 0 ? (
          <Empty>{t('rcpt.empty')}</Empty>
        ) : (
          <ReceiptTable items={items} caption={t('lists.ceb.receiptsOf', { orderNo })} />
        )
      }
    </Async>
  )
}

/** The tickets' return-status filter (`returnStatus` in the URL query), as the officers' and the portal's lists show it. */
export function ReturnStatusFilter() {
  const { t } = useT()
  const { get, set } = useQuery()
  return (
    <label className="inline">
      {t('rcpt.status')}{' '}
      <select value={get('returnStatus')} onChange={(e) => set({ returnStatus: e.target.value })}>
        <option value="">{t('portal.all')}</option>
        {RETURN_STATUSES.map((s) => (
          <option key={s} value={s}>
            {s} {t(`rcpt.${s}`)}
          </option>
        ))}
      </select>
    </label>
  )
}
