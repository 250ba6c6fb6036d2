import { useState, type KeyboardEvent } from 'react'
import type { Archive, ArchiveSummary } from '../../../../src/modules/archives/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { Async, Empty, ErrorBox, Loading, useAction, useAsync } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaDayEnd, chinaDayStart, chinaTime } from '../../lib/format.js'
import { Link, navigate, useQuery } from '../../router.js'
import { fetchFile } from '../Documents.js'
import { DateRange, QueryFilters } from '../../components/Filters.js'
import { Pager } from '../../components/Pager.js'

const PAGE = 25
const FILTERS = ['clearedFrom', 'clearedTo', 'entryId', 'tradeMode', 'iePort', 'ieFlag'] as const

interface PrintLogEntry {
  id: string
  kind: 'PRINT' | 'EXPORT'
  printedAt: string
  actor: string
  enterpriseId: string | null
  serial: string | null
  entryId: string | null
  query: Record<string, unknown> | null
  rowCount: number
}

/** Prints an archive (logged by the server) and opens the printout; `onDone` after the print is recorded. */
function usePrint(onDone?: () => void) {
  const { busy, error, run } = useAction()
  const print = (entryId: string) =>
    void run(entryId, () => fetchFile('POST', `/api/v1/archives/${entryId}/print`, `${entryId}.pdf`, true), onDone)
  return { busy, error, print }
}

/** Officers' archive screen: the archives (filters in the URL) and, as a second tab, the log of prints and exports. */
export function ArchiveList() {
  const { t } = useT()
  const { get } = useQuery()
  const tab = get('tab') === 'prints' ? 'prints' : 'archives'
  const open = (x: 'archives' | 'prints') =>
    navigate(x === 'prints' ? '/officer/archives?tab=prints' : '/officer/archives')
  // Arrow keys move between the two tabs (the ARIA tabs pattern): the other tab opens and takes the focus.
  const keys = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return
    e.preventDefault()
    const next = tab === 'archives' ? 'prints' : 'archives'
    open(next)
    requestAnimationFrame(() => document.getElementById(`tab-${next}`)?.focus())
  }
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('lists.arch.title')}</h1>
      </div>
      <div className="tabs" role="tablist" aria-label={t('lists.arch.title')} onKeyDown={keys}>
        {(['archives', 'prints'] as const).map((x) => (
          <button
            key={x}
            type="button"
            role="tab"
            id={`tab-${x}`}
            aria-selected={tab === x}
            aria-controls={`panel-${x}`}
            tabIndex={tab === x ? 0 : -1}
            onClick={() => open(x)}>
            {t(`lists.arch.tab.${x}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'archives' ? <Archives /> : <PrintLog />}
      </div>
    </Layout>
  )
}

function Archives() {
  const { t } = useT()
  const { get, set } = useQuery()
  const offset = Number(get('offset')) || 0
  const values = Object.fromEntries(FILTERS.map((k) => [k, get(k)])) as Record<(typeof FILTERS)[number], string>
  const applied = new URLSearchParams(Object.entries(values).filter(([, v]) => v !== '')).toString()
  const list = useAsync(
    () =>
      api<{ items: ArchiveSummary[]; total: number }>(
        'GET',
        `/api/v1/archives?limit=${PAGE}&offset=${offset}${applied ? `&${applied}` : ''}`,
      ),
    [applied, offset],
  )
  const { busy, error, print } = usePrint()
  return (
    <>
      <QueryFilters names={FILTERS} label={t('lists.filters')}>
        <DateRange fromLabel={t('arch.clearedFrom')} toLabel={t('arch.clearedTo')} from="clearedFrom" to="clearedTo" />
        <label>
          {t('queue.entry')}
          <input name="entryId" defaultValue={values.entryId} pattern="[0-9]{18}" inputMode="numeric" size={20} />
        </label>
        <label>
          {t('decl.tradeMode')}
          <input name="tradeMode" defaultValue={values.tradeMode} pattern="[0-9]{4}" size={5} />
        </label>
        <label>
          {t('decl.port')}
          <input name="iePort" defaultValue={values.iePort} pattern="[0-9]{4}" size={5} />
        </label>
        <label>
          {t('decl.ieFlag')}
          <select name="ieFlag" defaultValue={values.ieFlag}>
            <option value="">{t('portal.all')}</option>
            <option value="I">{t('decl.I')}</option>
            <option value="E">{t('decl.E')}</option>
          </select>
        </label>
        <button type="submit" className="primary">
          {t('common.search')}
        </button>
      </QueryFilters>
      {busy && <Loading label={t('common.working')} />}
      {error !== undefined && <ErrorBox error={error} />}
      <Async state={list}>
        {(d) =>
          d.items.length === 0 ? (
            <Empty>{t('arch.empty')}</Empty>
          ) : (
            <>
              <table className="grid">
                <caption className="sr-only">{t('lists.arch.tab.archives')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('queue.entry')}</th>
                    <th scope="col">{t('queue.trader')}</th>
                    <th scope="col">{t('decl.tradeMode')}</th>
                    <th scope="col">{t('decl.port')}</th>
                    <th scope="col" className="num">
                      {t('item.total')}
                    </th>
                    <th scope="col">{t('arch.clearedAt')}</th>
                    <th scope="col">{t('arch.retainUntil')}</th>
                    <th scope="col" />
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((a) => (
                    <tr key={a.id} data-entry={a.entryId}>
                      <td>
                        <Link to={`/officer/archives/${a.entryId}`}>{a.entryId}</Link>
                      </td>
                      <td>
                        {a.traderName}
                        <br />
                        <small>{a.traderCode}</small>
                      </td>
                      <td>{a.tradeMode}</td>
                      <td>{a.iePort}</td>
                      <td className="num">
                        {a.totalValue} {a.currency}
                      </td>
                      <td>{chinaTime(a.clearedAt).slice(0, 10)}</td>
                      <td>
                        {a.retainUntil} <small>({t('arch.years', { n: a.retentionYears })})</small>
                      </td>
                      <td>
                        <button
                          type="button"
                          disabled={!!busy}
                          onClick={() => print(a.entryId)}
                          aria-label={`${t('common.print')} ${a.entryId}`}>
                          {t('common.print')}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager offset={offset} total={d.total} page={PAGE} onChange={(o) => set({ offset: String(o) })} />
            </>
          )
        }
      </Async>
    </>
  )
}

function PrintLog() {
  const { t } = useT()
  const { get, set } = useQuery()
  const kind = get('kind')
  const from = get('from')
  const to = get('to')
  const offset = Number(get('offset')) || 0
  const list = useAsync(() => {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) })
    if (kind) q.set('kind', kind)
    if (from) q.set('from', chinaDayStart(from))
    if (to) q.set('to', chinaDayEnd(to))
    return api<{ items: PrintLogEntry[]; total: number }>('GET', `/api/v1/archives/prints?${q}`)
  }, [kind, from, to, offset])
  return (
    <>
      <QueryFilters names={['kind', 'from', 'to']} label={t('lists.filters')}>
        <label>
          {t('lists.arch.kind')}
          <select name="kind" defaultValue={kind}>
            <option value="">{t('portal.all')}</option>
            <option value="PRINT">{t('lists.arch.PRINT')}</option>
            <option value="EXPORT">{t('lists.arch.EXPORT')}</option>
          </select>
        </label>
        <DateRange fromLabel={t('lists.arch.printedFrom')} toLabel={t('arch.clearedTo')} />
        <button type="submit" className="primary">
          {t('common.search')}
        </button>
        <button type="button" onClick={list.reload}>
          {t('lists.refresh')}
        </button>
      </QueryFilters>
      <Async state={list}>
        {(d) =>
          d.items.length === 0 ? (
            <Empty>{t('lists.arch.noPrints')}</Empty>
          ) : (
            <>
              <table className="grid" data-testid="print-log">
                <caption className="sr-only">{t('lists.arch.tab.prints')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('lists.arch.printedAt')}</th>
                    <th scope="col">{t('lists.arch.kind')}</th>
                    <th scope="col">{t('audit.actor')}</th>
                    <th scope="col">{t('lists.arch.serial')}</th>
                    <th scope="col">{t('queue.entry')}</th>
                    <th scope="col" className="num">
                      {t('lists.arch.rows')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((p) => (
                    <tr key={p.id} data-serial={p.serial ?? ''}>
                      <td>{chinaTime(p.printedAt)}</td>
                      <td>{t(`lists.arch.${p.kind}`)}</td>
                      <td>{p.actor}</td>
                      <td>{p.serial ?? '—'}</td>
                      <td>
                        {p.entryId ? (
                          <Link to={`/officer/archives/${p.entryId}`}>{p.entryId}</Link>
                        ) : (
                          <small>{p.query ? JSON.stringify(p.query) : '—'}</small>
                        )}
                      </td>
                      <td className="num">{p.rowCount}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager offset={offset} total={d.total} page={PAGE} onChange={(o) => set({ offset: String(o) })} />
            </>
          )
        }
      </Async>
    </>
  )
}

/** One archived declaration as frozen at clearance, with print. */
export function ArchiveDetail({ entryId }: { entryId: string }) {
  const { t } = useT()
  const view = useAsync(() => api<Archive>('GET', `/api/v1/archives/${encodeURIComponent(entryId)}`), [entryId])
  const [printed, setPrinted] = useState(false)
  const { busy, error, print } = usePrint(() => setPrinted(true))
  return (
    <Layout>
      <p>
        <Link to="/officer/archives">← {t('lists.arch.title')}</Link>
      </p>
      {busy && <Loading label={t('common.working')} />}
      {error !== undefined && <ErrorBox error={error} />}
      {printed && (
        <p className="notice" role="status">
          {t('lists.arch.printed')} <Link to="/officer/archives?tab=prints">{t('lists.arch.tab.prints')}</Link>
        </p>
      )}
      <Async state={view}>
        {(a) => {
          const c = a.snapshot.content
          return (
            <>
              <div className="page-head">
                <h1>
                  {t('lists.arch.entry')} {a.entryId}
                </h1>
                <button type="button" className="primary" disabled={!!busy} onClick={() => print(a.entryId)}>
                  {t('common.print')}
                </button>
                <Link to={`/officer/declarations/${a.declarationId}`}>{t('lists.arch.declaration')}</Link>
              </div>
              <div className="card-panel">
                <dl className="facts">
                  <div>
                    <dt>{t('queue.trader')}</dt>
                    <dd>
                      {a.snapshot.trader.name} ({a.snapshot.trader.customsCode})
                    </dd>
                  </div>
                  <div>
                    <dt>{t('lists.arch.declarant')}</dt>
                    <dd>
                      {a.snapshot.declarant.name} ({a.snapshot.declarant.customsCode})
                    </dd>
                  </div>
                  <div>
                    <dt>{t('decl.ieFlag')}</dt>
                    <dd>{t(`decl.${a.ieFlag}`)}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.tradeMode')}</dt>
                    <dd>{a.tradeMode}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.port')}</dt>
                    <dd>
                      {a.iePort} / {a.customsDistrict}
                    </dd>
                  </div>
                  <div>
                    <dt>{t('item.total')}</dt>
                    <dd>
                      {a.snapshot.totalValue} {c.currency} · CNY {a.snapshot.totalValueCny}
                    </dd>
                  </div>
                  <div>
                    <dt>{t('arch.declaredAt')}</dt>
                    <dd>{chinaTime(a.declaredAt)}</dd>
                  </div>
                  <div>
                    <dt>{t('arch.clearedAt')}</dt>
                    <dd>{chinaTime(a.clearedAt)}</dd>
                  </div>
                  <div>
                    <dt>{t('arch.retainUntil')}</dt>
                    <dd>
                      {a.retainUntil} ({t('arch.years', { n: a.retentionYears })}, {a.retentionBasis})
                    </dd>
                  </div>
                  {c.billNo && (
                    <div>
                      <dt>{t('lists.arch.billNo')}</dt>
                      <dd>{c.billNo}</dd>
                    </div>
                  )}
                </dl>
              </div>
              <h2>{t('cert.goods')}</h2>
              <table className="grid">
                <caption className="sr-only">{t('cert.goods')}</caption>
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">HS</th>
                    <th scope="col">{t('lists.cert.description')}</th>
                    <th scope="col" className="num">
                      {t('lists.cert.quantity')}
                    </th>
                    <th scope="col" className="num">
                      {t('item.total')}
                    </th>
                    <th scope="col">{t('lists.cert.origin')}</th>
                  </tr>
                </thead>
                <tbody>
                  {c.items.map((g, i) => (
                    <tr key={i}>
                      <td>{i + 1}</td>
                      <td>{g.hsCode}</td>
                      <td>{g.description}</td>
                      <td className="num">
                        {g.quantity} {g.unit}
                      </td>
                      <td className="num">{g.totalValue}</td>
                      <td>{g.originCountry}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )
        }}
      </Async>
    </Layout>
  )
}
