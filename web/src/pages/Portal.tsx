import { useState, type FormEvent } from 'react'
import type { Declaration } from '../../../src/modules/declarations/schema.js'
import { api } from '../api.js'
import { Layout } from '../components/Layout.js'
import { Async, Empty, ErrorBox, Loading, useAsync, useEvery } from '../components/States.js'
import { useT } from '../i18n.js'
import { chinaTime } from '../lib/format.js'
import { Link, useQuery } from '../router.js'
import { useSession } from '../session.js'
import { Pager } from './Queue.js'

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
  const [query, setQuery] = useQuery()
  const state = query.get('state') ?? ''
  const offset = Number(query.get('offset') ?? 0) || 0
  const list = useAsync(
    () =>
      api<{ items: Declaration[]; total: number }>(
        'GET',
        `/api/v1/declarations?limit=${PAGE}&offset=${offset}${state ? `&state=${state}` : ''}`,
      ),
    [state, offset],
  )
  // New declarations and state changes show up without a reload.
  useEvery(10_000, list.reload)
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

interface Receipt {
  id: number
  type: string
  docKey: string
  orderNo: string
  returnStatus: number
  returnInfo: string
  reasons: Array<{ code: string; message: string; pointer: string }>
  createdAt: string
}

/** CEB receipts of one order (the enterprise must be a party to it). */
export function Receipts() {
  const { t } = useT()
  const [orderNo, setOrderNo] = useState(() => new URLSearchParams(location.search).get('orderNo') ?? '')
  const [state, setState] = useState<{ loading?: boolean; items?: Receipt[]; error?: unknown }>({})
  const search = async (e: FormEvent) => {
    e.preventDefault()
    setState({ loading: true })
    try {
      setState({
        items: (
          await api<{ items: Receipt[] }>('GET', `/api/v1/ceb/orders/${encodeURIComponent(orderNo.trim())}/receipts`)
        ).items,
      })
    } catch (err) {
      setState({ error: err })
    }
  }
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('rcpt.title')}</h1>
      </div>
      <form className="row card-panel" onSubmit={search} role="search">
        <label className="grow">
          {t('rcpt.orderNo')}
          <input value={orderNo} onChange={(e) => setOrderNo(e.target.value)} required maxLength={60} />
        </label>
        <button type="submit" className="primary">
          {t('common.search')}
        </button>
      </form>
      {state.loading && <Loading />}
      {state.error !== undefined && <ErrorBox error={state.error} />}
      {state.items &&
        (state.items.length === 0 ? (
          <Empty>{t('rcpt.empty')}</Empty>
        ) : (
          <table className="grid">
            <thead>
              <tr>
                <th scope="col">{t('rcpt.time')}</th>
                <th scope="col">{t('rcpt.type')}</th>
                <th scope="col">{t('rcpt.status')}</th>
                <th scope="col">{t('rcpt.info')}</th>
              </tr>
            </thead>
            <tbody>
              {state.items.map((r) => (
                <tr key={r.id}>
                  <td>{chinaTime(r.createdAt)}</td>
                  <td>
                    {r.type} <small>{r.docKey}</small>
                  </td>
                  <td>
                    <span className={`badge rc-${r.returnStatus}`}>
                      {r.returnStatus} {t(`rcpt.${r.returnStatus}`)}
                    </span>
                  </td>
                  <td>
                    {r.returnInfo}
                    {r.reasons.length > 0 && (
                      <ul>
                        {r.reasons.map((x, i) => (
                          <li key={i}>
                            <code>{x.code}</code> {x.message}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </Layout>
  )
}
