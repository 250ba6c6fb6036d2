import { useState, type FormEvent } from 'react'
import type { Declaration } from '../../../src/modules/declarations/schema.js'
import { api } from '../api.js'
import { Layout } from '../components/Layout.js'
import { Async, Empty, Updated, usePolled } from '../components/States.js'
import { useT } from '../i18n.js'
import { chinaTime } from '../lib/format.js'
import { Link, useQuery } from '../router.js'
import { useSession } from '../session.js'
import { Pager } from '../components/Pager.js'
import { TicketTable } from './lists/Ecommerce.js'
import { OrderReceipts, ReturnStatusFilter, type TicketSummary } from './lists/Receipts.js'

const STATES = [
  'SUBMITTED',
  'ACCEPTED',
  'REJECTED',
  'ASSESSED',
  'INSPECTING',
  'RELEASED',
  'DETAINED',
  'RETURNED',
  'CLEARED',
] as const
const PAGE = 25

/** The enterprise's declarations, newest first, to track their state. */
export function PortalDeclarations() {
  const { t } = useT()
  const s = useSession()
  const { get, int, set: setQuery } = useQuery()
  const state = get('state')
  const offset = int('offset')
  // Polled: new declarations and state changes show up without a reload.
  const list = usePolled(
    () =>
      api<{ items: Declaration[]; total: number }>(
        'GET',
        `/api/v1/declarations?limit=${PAGE}&offset=${offset}${state ? `&state=${state}` : ''}`,
      ),
    [state, offset],
  )
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('portal.list')}</h1>
        {s && <p className="sub">{t('portal.welcome', { name: s.name, card: s.cardNo ?? '' })}</p>}
        <label className="inline">
          {t('portal.filterState')}{' '}
          <select value={state} onChange={(e) => setQuery({ state: e.target.value, offset: undefined })}>
            <option value="">{t('portal.all')}</option>
            {STATES.map((x) => (
              <option key={x} value={x}>
                {t(`state.${x}`)}
              </option>
            ))}
          </select>
        </label>
        <Link to="/portal/new" className="button primary">
          {t('nav.new')}
        </Link>
      </div>
      <Updated at={list.updatedAt} everyMs={10_000} />
      <Async state={list}>
        {(d) =>
          d.items.length === 0 ? (
            <Empty>{t('portal.empty')}</Empty>
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th scope="col">{t('queue.entry')}</th>
                    <th scope="col">{t('decl.clientRef')}</th>
                    <th scope="col">{t('decl.state')}</th>
                    <th scope="col">{t('decl.lane')}</th>
                    <th scope="col" className="num">
                      {t('decl.value')}
                    </th>
                    <th scope="col">{t('decl.submittedAt')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((x) => (
                    <tr key={x.id} data-entry={x.entryId ?? ''}>
                      <td>
                        <Link to={`/portal/declarations/${x.id}`}>{x.entryId ?? x.id.slice(0, 8)}</Link>
                      </td>
                      <td>{x.clientRef}</td>
                      <td>
                        <span className={`badge state-${x.state.toLowerCase()}`}>{t(`state.${x.state}`)}</span>
                      </td>
                      <td>
                        {x.lane ? (
                          <span className={`badge lane-${x.lane.toLowerCase()}`}>{t(`lane.${x.lane}`)}</span>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td className="num">{x.totalValueCny}</td>
                      <td>{chinaTime(x.submittedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager offset={offset} total={d.total} page={PAGE} onChange={(o) => setQuery({ offset: o })} />
            </>
          )
        }
      </Async>
    </Layout>
  )
}

/**
 * CEB receipts: the enterprise's recent tickets (those it is a party of), each with its receipts on demand, refreshed
 * every 5 s; and receipts by order number (deep link `?orderNo=`).
 */
export function Receipts() {
  const { t } = useT()
  const { get, set } = useQuery()
  const orderNo = get('orderNo')
  const status = get('returnStatus')
  const offset = Number(get('offset')) || 0
  const [open, setOpen] = useState<string[]>([])
  const tickets = usePolled(
    () =>
      api<{ items: TicketSummary[]; total: number }>(
        'GET',
        `/api/v1/ceb/orders?limit=${PAGE}&offset=${offset}${status ? `&returnStatus=${status}` : ''}`,
      ),
    [status, offset],
    5000,
  )
  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    set({ orderNo: String(new FormData(e.currentTarget).get('orderNo') ?? '').trim() })
  }
  const toggle = (o: string) => setOpen((s) => (s.includes(o) ? s.filter((x) => x !== o) : [...s, o]))
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('rcpt.title')}</h1>
      </div>
      <form
        key={orderNo}
        className="row card-panel"
        onSubmit={search}
        role="search"
        aria-label={t('lists.portal.searchTitle')}>
        <label className="grow">
          {t('rcpt.orderNo')}
          <input name="orderNo" defaultValue={orderNo} required maxLength={60} />
        </label>
        <button type="submit" className="primary">
          {t('common.search')}
        </button>
      </form>
      {orderNo && (
        <section className="lists-gap" aria-labelledby="searched">
          <h2 id="searched">{t('lists.ceb.receiptsOf', { orderNo })}</h2>
          <OrderReceipts orderNo={orderNo} />
        </section>
      )}
      <section className="lists-gap">
        <div className="page-head">
          <h2 id="tickets">{t('lists.portal.recent')}</h2>
          <Updated at={tickets.updatedAt} />
          <ReturnStatusFilter />
        </div>
        <TicketTable
          state={tickets}
          offset={offset}
          onPage={(o) => set({ offset: String(o) })}
          action={(x) => (
            <button
              type="button"
              aria-expanded={open.includes(x.orderNo)}
              aria-controls={`receipts-${x.orderNo}`}
              onClick={() => toggle(x.orderNo)}>
              {open.includes(x.orderNo) ? t('lists.portal.hide') : t('lists.portal.show')}
            </button>
          )}
          detail={(x) =>
            open.includes(x.orderNo) ? (
              <div id={`receipts-${x.orderNo}`}>
                <OrderReceipts orderNo={x.orderNo} />
              </div>
            ) : null
          }
        />
      </section>
    </Layout>
  )
}
