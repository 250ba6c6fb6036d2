import type { TicketDetail, TicketDocument } from '../../../../src/modules/ecommerce/types.js'
import { Fragment, useEffect, useState, type FormEvent, type ReactNode } from 'react'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { Async, Empty, ErrorBox, Loading, Updated, usePolled } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime, duration } from '../../lib/format.js'
import { Link, navigate, useQuery } from '../../router.js'
import { Pager } from '../../components/Pager.js'
import {
  DOC_TYPES,
  RETURN_STATUSES,
  ReturnStatusFilter,
  ReceiptTable,
  StatusBadge,
  receiptsOf,
  type CebReceipt,
  type TicketSummary,
} from './Receipts.js'

const POLL_MS = 5000
const PAGE = 25
/** Samples of "tickets in the last minute" kept for the trend (two minutes at one every 5 s). */
const SAMPLES = 24

interface Stats {
  byStatus: Array<{ returnStatus: number; tickets: number }>
  topReasons: Array<{ code: string; tickets: number }>
  ticketsLastMinute: number
  oldestIncomplete: Array<{ orderNo: string; since: string }>
}

type Ticket = TicketDetail

const ticketPath = (orderNo: string) => `/officer/ecommerce/orders/${encodeURIComponent(orderNo)}`

/** Opens a ticket by its order number. */
function TicketSearch() {
  const { t } = useT()
  const open = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const v = String(new FormData(e.currentTarget).get('orderNo') ?? '').trim()
    if (v) navigate(ticketPath(v))
  }
  return (
    <form className="inline-form" role="search" aria-label={t('lists.ceb.search')} onSubmit={open}>
      <label className="inline">
        {t('rcpt.orderNo')} <input name="orderNo" required maxLength={60} size={22} autoComplete="off" />
      </label>
      <button type="submit">{t('queue.go')}</button>
    </form>
  )
}

/** The e-commerce operations view: tickets per status and per minute, top rejection reasons, oldest unmatched orders
 *  and the latest tickets, refreshed every 5 s. */
export function EcommerceOps() {
  const { t, lang } = useT()
  const { get, set } = useQuery()
  const status = get('returnStatus')
  const complete = get('complete')
  const offset = Number(get('offset')) || 0
  const stats = usePolled(() => api<Stats>('GET', '/api/v1/ceb/stats'), [], POLL_MS)
  const tickets = usePolled(
    () => {
      const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) })
      if (status) q.set('returnStatus', status)
      if (complete) q.set('complete', complete)
      return api<{ items: TicketSummary[]; total: number }>('GET', `/api/v1/ceb/orders?${q}`)
    },
    [status, complete, offset],
    POLL_MS,
  )
  const [trend, setTrend] = useState<number[]>([])
  const perMinute = stats.data?.ticketsLastMinute
  useEffect(() => {
    if (perMinute !== undefined) setTrend((s) => [...s, perMinute].slice(-SAMPLES))
  }, [stats.updatedAt])
  const total = stats.data?.byStatus.reduce((s, x) => s + x.tickets, 0) ?? 0
  const peak = Math.max(1, ...trend)
  const now = Date.now()
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('lists.ceb.title')}</h1>
        <Updated at={stats.updatedAt} />
        <TicketSearch />
      </div>
      {stats.error !== undefined && <ErrorBox error={stats.error} onRetry={stats.reload} />}
      {stats.loading ? (
        <Loading />
      ) : (
        stats.data && (
          <>
            <section className="lists-kpis" aria-label={t('lists.ceb.figures')}>
              <div className="card-panel">
                <h2>{t('dash.cebPerMinute')}</h2>
                <p className="lists-big" aria-live="polite" data-testid="per-minute">
                  {stats.data.ticketsLastMinute}
                </p>
                <div className="lists-trend" aria-hidden="true">
                  {trend.map((n, i) => (
                    <span key={i} style={{ height: `${Math.round((n / peak) * 100)}%` }} />
                  ))}
                </div>
                <p className="hint">{t('lists.ceb.trend')}</p>
              </div>
              <div className="card-panel lists-grow">
                <h2>{t('lists.ceb.byStatus', { n: total })}</h2>
                <ul className="lists-status" aria-live="polite">
                  {RETURN_STATUSES.map((s) => {
                    const n = stats.data!.byStatus.find((x) => x.returnStatus === s)?.tickets ?? 0
                    return (
                      <li key={s} data-status={s}>
                        <button
                          type="button"
                          aria-pressed={status === String(s)}
                          onClick={() => set({ returnStatus: status === String(s) ? '' : String(s) })}>
                          <StatusBadge status={s} /> <strong>{n}</strong>
                        </button>
                      </li>
                    )
                  })}
                </ul>
                <p className="hint">{t('lists.ceb.byStatusHint')}</p>
              </div>
            </section>
            <div className="lists-two">
              <section className="card-panel">
                <h2 id="top-reasons">{t('lists.ceb.topReasons')}</h2>
                {stats.data.topReasons.length === 0 ? (
                  <Empty>{t('lists.ceb.noReasons')}</Empty>
                ) : (
                  <table className="grid" aria-labelledby="top-reasons">
                    <thead>
                      <tr>
                        <th scope="col">{t('lists.ceb.reason')}</th>
                        <th scope="col" className="num">
                          {t('lists.ceb.tickets')}
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {stats.data.topReasons.map((r) => (
                        <tr key={r.code}>
                          <td>
                            <code>{r.code}</code>
                          </td>
                          <td className="num">{r.tickets}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
              <section className="card-panel">
                <h2 id="oldest">{t('lists.ceb.oldest')}</h2>
                {stats.data.oldestIncomplete.length === 0 ? (
                  <Empty>{t('lists.ceb.noneWaiting')}</Empty>
                ) : (
                  <table className="grid" aria-labelledby="oldest">
                    <thead>
                      <tr>
                        <th scope="col">{t('rcpt.orderNo')}</th>
                        <th scope="col">{t('lists.ceb.since')}</th>
                        <th scope="col" className="num">
                          {t('lists.ceb.waiting')}
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {stats.data.oldestIncomplete.map((o) => (
                        <tr key={o.orderNo}>
                          <td>
                            <Link to={ticketPath(o.orderNo)}>{o.orderNo}</Link>
                          </td>
                          <td>{chinaTime(o.since)}</td>
                          <td className="num">{duration(Math.max(0, (now - Date.parse(o.since)) / 1000), lang)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
            </div>
          </>
        )
      )}
      <section className="lists-gap">
        <div className="page-head">
          <h2 id="tickets">{t('lists.ceb.latest')}</h2>
          <ReturnStatusFilter />
          <label className="inline">
            {t('lists.ceb.complete')}{' '}
            <select value={complete} onChange={(e) => set({ complete: e.target.value })}>
              <option value="">{t('portal.all')}</option>
              <option value="true">{t('lists.ceb.completeYes')}</option>
              <option value="false">{t('lists.ceb.completeNo')}</option>
            </select>
          </label>
        </div>
        <TicketTable state={tickets} offset={offset} onPage={(o) => set({ offset: String(o) })} link={ticketPath} />
      </section>
    </Layout>
  )
}

/** Tickets as a table (officers: links to the ticket; the portal: its own row actions). */
export function TicketTable({
  state,
  offset,
  onPage,
  link,
  action,
  detail,
}: {
  state: { data?: { items: TicketSummary[]; total: number } | undefined; error?: unknown; reload: () => void }
  offset: number
  onPage: (o: number) => void
  link?: (orderNo: string) => string
  action?: (x: TicketSummary) => ReactNode
  /** A row of its own under a ticket's row (the portal's receipts), when it returns something. */
  detail?: (x: TicketSummary) => ReactNode
}) {
  const { t } = useT()
  if (state.error !== undefined && !state.data) return <ErrorBox error={state.error} onRetry={state.reload} />
  if (!state.data) return <Loading />
  const d = state.data
  if (d.items.length === 0) return <Empty>{t('lists.ceb.noTickets')}</Empty>
  return (
    <>
      {state.error !== undefined && <ErrorBox error={state.error} onRetry={state.reload} />}
      <table className="grid" aria-labelledby="tickets">
        <thead>
          <tr>
            <th scope="col">{t('rcpt.orderNo')}</th>
            <th scope="col">{t('rcpt.status')}</th>
            <th scope="col">{t('lists.ceb.documents')}</th>
            <th scope="col">{t('lists.ceb.reasons')}</th>
            <th scope="col">{t('common.createdAt')}</th>
            <th scope="col">{t('lists.ceb.verdictAt')}</th>
            {action && <th scope="col" />}
          </tr>
        </thead>
        <tbody>
          {d.items.map((x) => (
            <Fragment key={x.orderNo}>
              <tr data-order={x.orderNo}>
                <td>{link ? <Link to={link(x.orderNo)}>{x.orderNo}</Link> : <strong>{x.orderNo}</strong>}</td>
                <td>
                  <StatusBadge status={x.returnStatus} />
                  {x.lane && (
                    <>
                      {' '}
                      <span className={`badge lane-${x.lane.toLowerCase()}`}>{t(`lane.${x.lane}`)}</span>
                    </>
                  )}
                </td>
                <td>
                  <span className="lists-docs">
                    {DOC_TYPES.map((d) => (
                      <abbr
                        key={d}
                        title={`${t(`lists.ceb.doc.${d}`)}: ${x.present.includes(d) ? t('lists.ceb.present') : t('lists.ceb.missing')}`}
                        className={x.present.includes(d) ? 'on' : 'off'}>
                        {d.slice(3)}
                      </abbr>
                    ))}
                  </span>
                </td>
                <td>{x.reasons.map((r) => r.code).join(', ') || '—'}</td>
                <td>{chinaTime(x.createdAt)}</td>
                <td>{chinaTime(x.verdictAt)}</td>
                {action && <td className="actions">{action(x)}</td>}
              </tr>
              {detail?.(x) && (
                <tr className="lists-detail-row">
                  <td colSpan={action ? 7 : 6}>{detail(x)}</td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      <Pager offset={offset} total={d.total} page={PAGE} onChange={onPage} />
    </>
  )
}

/** One ticket: its status and reasons, the four documents side by side with their key fields and receipts. */
export function TicketView({ orderNo }: { orderNo: string }) {
  const { t } = useT()
  const state = usePolled(
    () =>
      Promise.all([
        api<Ticket>('GET', `/api/v1/ceb/orders/${encodeURIComponent(orderNo)}`),
        receiptsOf(orderNo),
      ]) as Promise<[Ticket, CebReceipt[]]>,
    [orderNo],
    POLL_MS,
  )
  return (
    <Layout wide>
      <p>
        <Link to="/officer/ecommerce">← {t('lists.ceb.title')}</Link>
      </p>
      <div className="page-head">
        <h1>
          {t('lists.ceb.ticket')} {orderNo}
        </h1>
        <Updated at={state.updatedAt} />
        <TicketSearch />
      </div>
      <Async state={{ ...state, error: state.data ? undefined : state.error }}>
        {([ticket, receipts]) => (
          <>
            {state.error !== undefined && <ErrorBox error={state.error} onRetry={state.reload} />}
            <div className="card-panel" aria-live="polite">
              <dl className="facts">
                <div>
                  <dt>{t('rcpt.status')}</dt>
                  <dd data-testid="ticket-status">
                    <StatusBadge status={ticket.returnStatus} />
                  </dd>
                </div>
                <div>
                  <dt>{t('decl.lane')}</dt>
                  <dd>{ticket.lane ? t(`lane.${ticket.lane}`) : '—'}</dd>
                </div>
                <div>
                  <dt>{t('lists.ceb.dutiable')}</dt>
                  <dd>{ticket.dutiableValue ?? '—'}</dd>
                </div>
                <div>
                  <dt>{t('lists.ceb.tax')}</dt>
                  <dd>{ticket.taxTotal ?? '—'}</dd>
                </div>
                <div>
                  <dt>{t('common.createdAt')}</dt>
                  <dd>{chinaTime(ticket.createdAt)}</dd>
                </div>
                <div>
                  <dt>{t('lists.ceb.verdictAt')}</dt>
                  <dd>{chinaTime(ticket.verdictAt)}</dd>
                </div>
                <div>
                  <dt>{t('lists.ceb.releasedAt')}</dt>
                  <dd>{chinaTime(ticket.releasedAt)}</dd>
                </div>
              </dl>
              {ticket.reasons.length > 0 && (
                <ul className="lists-reasons">
                  {ticket.reasons.map((r, i) => (
                    <li key={i}>
                      <code>{r.code}</code> {r.message} <small>{r.pointer}</small>
                    </li>
                  ))}
                </ul>
              )}
            </div>
            <div className="lists-docgrid">
              {DOC_TYPES.map((type) => (
                <DocumentColumn
                  key={type}
                  type={type}
                  docs={ticket.documents.filter((d) => d.type === type)}
                  receipts={receipts.filter((r) => r.type === type)}
                />
              ))}
            </div>
          </>
        )}
      </Async>
    </Layout>
  )
}

function DocumentColumn({
  type,
  docs,
  receipts,
}: {
  type: (typeof DOC_TYPES)[number]
  docs: TicketDocument[]
  receipts: CebReceipt[]
}) {
  const { t } = useT()
  const id = `doc-${type}`
  return (
    <section className="card-panel lists-doc" aria-labelledby={id} data-doc={type}>
      <h2 id={id}>
        {type} · {t(`lists.ceb.doc.${type}`)}
      </h2>
      {docs.length === 0 && <Empty>{t('lists.ceb.notReceived')}</Empty>}
      {docs.map((d) => (
        <div key={d.docKey} className="lists-docbody">
          <p>
            <span className={`badge lists-standing-${d.deleted ? 'deleted' : d.standing}`}>
              {d.deleted ? t('lists.ceb.deleted') : t(`lists.ceb.standing.${d.standing}`)}
            </span>{' '}
            <small>
              {d.docKey} · v{d.version} · {chinaTime(d.receivedAt)}
              {d.sender && <> · {d.sender}</>}
            </small>
          </p>
          {d.fields === null ? (
            <p className="hint">{t('lists.ceb.notParty')}</p>
          ) : (
            <dl className="lists-fields">
              {Object.entries(d.fields).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
          )}
          {d.lines && d.lines.length > 0 && (
            <details>
              <summary>{t('lists.ceb.lines', { n: d.lines.length })}</summary>
              <table className="grid">
                <caption className="sr-only">{t('lists.ceb.lines', { n: d.lines.length })}</caption>
                <thead>
                  <tr>
                    {Object.keys(d.lines[0]!).map((k) => (
                      <th key={k} scope="col">
                        {k}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {d.lines.map((l, i) => (
                    <tr key={i}>
                      {Object.keys(d.lines![0]!).map((k) => (
                        <td key={k}>{l[k] ?? ''}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          )}
        </div>
      ))}
      <h3>{t('lists.ceb.receipts')}</h3>
      {receipts.length === 0 ? (
        <Empty>{t('rcpt.empty')}</Empty>
      ) : (
        <ReceiptTable items={receipts} caption={`${type} ${t('lists.ceb.receipts')}`} compact />
      )}
    </section>
  )
}
