import { useState } from 'react'
import type { QueueItem } from '../../../src/modules/console/schema.js'
import { api } from '../api.js'
import { Layout } from '../components/Layout.js'
import { Async, Empty, useAsync } from '../components/States.js'
import { useT } from '../i18n.js'
import { chinaTime } from '../lib/format.js'
import { Link, navigate } from '../router.js'
import { Pager } from '../components/Pager.js'

const PAGE = 50

/** The inspection queue, most urgent first (physical before documents, then risk score, then waiting time). */
export function Queue() {
  const { t } = useT()
  const [state, setState] = useState<'' | 'OPEN' | 'IN_PROGRESS'>('')
  const [offset, setOffset] = useState(0)
  const q = useAsync(
    () =>
      api<{ items: QueueItem[]; total: number }>(
        'GET',
        `/api/v1/console/queue?limit=${PAGE}&offset=${offset}${state ? `&state=${state}` : ''}`,
      ),
    [state, offset],
  )
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('queue.title')}</h1>
        <label className="inline">
          {t('queue.state')}{' '}
          <select
            value={state}
            onChange={(e) => {
              setState(e.target.value as typeof state)
              setOffset(0)
            }}>
            <option value="">{t('portal.all')}</option>
            <option value="OPEN">{t('queue.OPEN')}</option>
            <option value="IN_PROGRESS">{t('queue.IN_PROGRESS')}</option>
          </select>
        </label>
        <button type="button" onClick={q.reload}>
          {t('common.retry')}
        </button>
        <form
          className="inline-form"
          role="search"
          onSubmit={(e) => {
            e.preventDefault()
            const v = new FormData(e.currentTarget).get('entry')
            if (v) navigate(`/officer/declarations/${String(v).trim()}`)
          }}>
          <label className="inline">
            {t('queue.open')} <input name="entry" required pattern="[0-9]{18}" inputMode="numeric" size={20} />
          </label>{' '}
          <button type="submit">{t('queue.go')}</button>
        </form>
      </div>
      <Async state={q}>
        {(d) =>
          d.items.length === 0 ? (
            <Empty>{t('queue.empty')}</Empty>
          ) : (
            <>
              <table className="grid queue">
                <thead>
                  <tr>
                    <th scope="col">{t('queue.priority')}</th>
                    <th scope="col">{t('queue.entry')}</th>
                    <th scope="col">{t('queue.kind')}</th>
                    <th scope="col">{t('queue.source')}</th>
                    <th scope="col" className="num">
                      {t('queue.score')}
                    </th>
                    <th scope="col">{t('queue.trader')}</th>
                    <th scope="col" className="num">
                      {t('queue.value')}
                    </th>
                    <th scope="col">{t('queue.reason')}</th>
                    <th scope="col">{t('queue.waiting')}</th>
                    <th scope="col">{t('queue.state')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((i) => (
                    <tr key={i.inspectionId} data-entry={i.entryId ?? ''}>
                      <td>
                        <span className={`prio ${i.priority.toLowerCase()}`}>{t(`prio.${i.priority}`)}</span>
                      </td>
                      <td>
                        <Link to={`/officer/declarations/${i.declarationId}`}>
                          {i.entryId ?? i.declarationId.slice(0, 8)}
                        </Link>
                      </td>
                      <td>{t(`kind.${i.kind}`)}</td>
                      <td>{t(`source.${i.source}`)}</td>
                      <td className="num">{i.score.toFixed(1)}</td>
                      <td>
                        {i.traderName}
                        <br />
                        <small>
                          {i.traderCode} · {t(`credit.${i.creditLevel}`)}
                        </small>
                      </td>
                      <td className="num">{i.totalValueCny}</td>
                      <td className="reason">{i.topReason ?? '—'}</td>
                      <td>{chinaTime(i.orderedAt)}</td>
                      <td>{t(`queue.${i.state}`)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager offset={offset} total={d.total} page={PAGE} onChange={setOffset} />
            </>
          )
        }
      </Async>
    </Layout>
  )
}
