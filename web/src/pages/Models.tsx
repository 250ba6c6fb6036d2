import { useState } from 'react'
import { api } from '../api.js'
import { Layout } from '../components/Layout.js'
import { Async, ErrorBox, Loading, useAsync } from '../components/States.js'
import { useT } from '../i18n.js'
import { chinaTime, percent } from '../lib/format.js'

interface Model {
  version: number
  status: 'CANDIDATE' | 'ACTIVE' | 'RETIRED'
  createdAt: string
  createdBy: string
  trainedRows: number
  metrics: Record<string, number>
  promotedAt: string | null
  promotedBy: string | null
}
interface Weekly {
  items: Array<{
    week: string
    targetedInspected: number
    targetedHitRate: number | null
    randomInspected: number
    randomHitRate: number | null
    liftPp: number | null
  }>
  liftTrendPpPerWeek: number | null
  drift: boolean
}

const fix = (v: number | undefined, dp = 3) => (v === undefined ? '—' : v.toFixed(dp))

/** Model versions with their backtest (validation) figures; promote a candidate, roll back, train a new one. */
export function Models() {
  const { t } = useT()
  const models = useAsync(() => api<{ items: Model[] }>('GET', '/api/v1/risk/models'), [])
  const weekly = useAsync(() => api<Weekly>('GET', '/api/v1/risk/hit-rates/weekly?weeks=12'), [])
  const [busy, setBusy] = useState('')
  const [error, setError] = useState<unknown>()
  const run = async (what: string, f: () => Promise<unknown>) => {
    setBusy(what)
    setError(undefined)
    try {
      await f()
      models.reload()
    } catch (e) {
      setError(e)
    } finally {
      setBusy('')
    }
  }
  const promote = (v: number) => {
    if (confirm(t('models.confirmPromote', { v })))
      void run(`p${v}`, () => api('POST', `/api/v1/risk/models/${v}/promote`))
  }
  const rollback = () => {
    if (confirm(t('models.confirmRollback'))) void run('rollback', () => api('POST', '/api/v1/risk/models/rollback'))
  }
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('models.title')}</h1>
        <button
          type="button"
          onClick={() => void run('train', () => api('POST', '/api/v1/risk/models/train'))}
          disabled={!!busy}>
          {t('models.train')}
        </button>
        <button type="button" onClick={rollback} disabled={!!busy}>
          {t('models.rollback')}
        </button>
      </div>
      {busy === 'train' && <Loading label={t('models.training')} />}
      {error !== undefined && <ErrorBox error={error} />}
      <section className="card-panel">
        <Async state={models} empty={(d) => d.items.length === 0} emptyText={t('models.empty')}>
          {(d) => (
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">{t('models.version')}</th>
                  <th scope="col">{t('models.status')}</th>
                  <th scope="col" className="num">
                    {t('models.rows')}
                  </th>
                  <th scope="col" className="num">
                    {t('models.auc')}
                  </th>
                  <th scope="col" className="num">
                    {t('models.p5')}
                  </th>
                  <th scope="col" className="num">
                    {t('models.p10')}
                  </th>
                  <th scope="col">{t('models.created')}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {d.items.map((m) => (
                  <tr key={m.version} className={m.status === 'ACTIVE' ? 'active' : undefined}>
                    <td>v{m.version}</td>
                    <td>
                      <span className={`badge model-${m.status.toLowerCase()}`}>{t(`models.${m.status}`)}</span>
                    </td>
                    <td className="num">{m.trainedRows}</td>
                    <td className="num">{fix(m.metrics.validAuc)}</td>
                    <td className="num">{fix(m.metrics.validPrecisionAt5)}</td>
                    <td className="num">{fix(m.metrics.validPrecisionAt10)}</td>
                    <td>
                      {chinaTime(m.createdAt)}
                      <br />
                      <small>{m.createdBy}</small>
                    </td>
                    <td>
                      {m.status !== 'ACTIVE' && (
                        <button type="button" disabled={!!busy} onClick={() => promote(m.version)}>
                          {t('models.promote')}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Async>
      </section>
      <section className="card-panel">
        <h2>{t('models.weekly')}</h2>
        <Async state={weekly} empty={(w) => w.items.length === 0} emptyText={t('models.noWeeks')}>
          {(w) => (
            <>
              <p>
                {w.liftTrendPpPerWeek !== null && t('models.trend', { v: w.liftTrendPpPerWeek })}{' '}
                {w.drift && <strong className="warn">{t('models.drift')}</strong>}
              </p>
              <table className="grid">
                <thead>
                  <tr>
                    <th scope="col">{t('models.week')}</th>
                    <th scope="col" className="num">
                      {t('dash.targeted')}
                    </th>
                    <th scope="col" className="num">
                      {t('dash.random')}
                    </th>
                    <th scope="col" className="num">
                      {t('models.liftPp')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {w.items.map((x) => (
                    <tr key={x.week}>
                      <td>{x.week}</td>
                      <td className="num">
                        {percent(x.targetedHitRate)} ({x.targetedInspected})
                      </td>
                      <td className="num">
                        {percent(x.randomHitRate)} ({x.randomInspected})
                      </td>
                      <td className="num">{x.liftPp ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </Async>
      </section>
    </Layout>
  )
}
