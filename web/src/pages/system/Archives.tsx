import { useState, type FormEvent } from 'react'
import type { PurgeResult, PurgeRun, RetentionRule } from '../../../../src/modules/archives/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { Async, ErrorBox, Loading, useAsync } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime, int } from '../../lib/format.js'
import {
  FieldError,
  Pager,
  Updated,
  fieldErrors,
  invalid,
  useConfirm,
  useFocusOn,
  usePoll,
  useQueryState,
} from './ui.js'

const KINDS = ['TRADE_MODE', 'MANUAL_PREFIX', 'CUT_MODE', 'DEFAULT'] as const
const SIZE = 20

/** Archive retention rules, the purge (dry run first, then the run, confirmed) and the history of purge runs. */
export function Archives() {
  const { t } = useT()
  const rules = useAsync(() => api<{ items: RetentionRule[] }>('GET', '/api/v1/archives/retention-rules'), [])
  const [ran, setRan] = useState(0)
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('sys.arch.title')}</h1>
      </div>
      <Purge onRun={() => setRan((n) => n + 1)} />
      <History refresh={ran} />
      <section className="card-panel" aria-labelledby="ret-title">
        <h2 id="ret-title">{t('sys.arch.rules')}</h2>
        <p className="hint">{t('sys.arch.rulesIntro')}</p>
        <Async state={rules}>{(d) => <RulesForm initial={d.items} onSaved={rules.reload} />}</Async>
      </section>
    </Layout>
  )
}

function RulesForm({ initial, onSaved }: { initial: RetentionRule[]; onSaved: () => void }) {
  const { t } = useT()
  const [rows, setRows] = useState(initial)
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const [saved, setSaved] = useState(0)
  const savedRef = useFocusOn<HTMLParagraphElement>(saved)
  const [dialog, ask] = useConfirm()
  const errors = fieldErrors(error)
  const set = (i: number, p: Partial<RetentionRule>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...p } : r)))
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const r = await api<{ items: RetentionRule[] }>('PUT', '/api/v1/archives/retention-rules', {
        items: rows.map((x) => ({ ...x, years: Number.isNaN(Number(x.years)) ? x.years : Number(x.years) })),
      })
      setRows(r.items)
      setSaved((n) => n + 1)
      onSaved()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  const input = (i: number, k: 'value' | 'years' | 'basis', label: string) => {
    const id = `ret-${i}-${k}`
    const pointer = `/body/items/${i}/${k}`
    return (
      <td>
        <label htmlFor={id}>
          <span className="sys-sr">
            {label} #{i + 1}
          </span>
          <input
            id={id}
            value={String(rows[i]![k])}
            size={k === 'basis' ? 30 : 8}
            inputMode={k === 'years' ? 'numeric' : undefined}
            onChange={(e) => set(i, { [k]: e.target.value } as Partial<RetentionRule>)}
            {...invalid(errors, pointer, id)}
          />
          <FieldError errors={errors} pointer={pointer} id={id} />
        </label>
      </td>
    )
  }
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      {dialog}
      <table className="grid" data-testid="retention">
        <caption className="sys-caption">{t('sys.arch.rulesCaption', { n: rows.length })}</caption>
        <thead>
          <tr>
            <th scope="col">{t('sys.arch.kind')}</th>
            <th scope="col">{t('rules.value')}</th>
            <th scope="col">{t('sys.arch.years')}</th>
            <th scope="col">{t('sys.arch.basis')}</th>
            <th scope="col">{t('sys.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              <td>
                <label htmlFor={`ret-${i}-kind`}>
                  <span className="sys-sr">
                    {t('sys.arch.kind')} #{i + 1}
                  </span>
                  <select
                    id={`ret-${i}-kind`}
                    value={r.kind}
                    onChange={(e) => set(i, { kind: e.target.value as RetentionRule['kind'] })}>
                    {KINDS.map((k) => (
                      <option key={k} value={k}>
                        {t(`sys.arch.kind.${k}`)}
                      </option>
                    ))}
                  </select>
                </label>
              </td>
              {input(i, 'value', t('rules.value'))}
              {input(i, 'years', t('sys.arch.years'))}
              {input(i, 'basis', t('sys.arch.basis'))}
              <td>
                <button
                  type="button"
                  aria-label={`${t('res.remove')} #${i + 1}`}
                  onClick={() =>
                    void ask(t('sys.arch.confirmRemove', { n: i + 1 }), t('res.remove')).then(
                      (ok) => ok && setRows(rows.filter((_, j) => j !== i)),
                    )
                  }>
                  {t('res.remove')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {errors.has('/body/items') && <p className="field-error">{errors.get('/body/items')}</p>}
      {error !== undefined && <ErrorBox error={error} />}
      {saved > 0 && (
        <p className="notice" role="status" tabIndex={-1} ref={savedRef}>
          {t('sys.arch.rulesSaved')}
        </p>
      )}
      <div className="row actions">
        <button
          type="button"
          onClick={() => setRows([...rows, { kind: 'TRADE_MODE', value: '', years: 3, basis: '' }])}>
          {t('sys.arch.addRule')}
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {t('common.save')}
        </button>
      </div>
    </form>
  )
}

function Purge({ onRun }: { onRun: () => void }) {
  const { t } = useT()
  const [dialog, ask] = useConfirm()
  const [dry, setDry] = useState<PurgeResult>()
  const [done, setDone] = useState<PurgeResult>()
  const [busy, setBusy] = useState<'' | 'dry' | 'run'>('')
  const [error, setError] = useState<unknown>()
  const resultRef = useFocusOn<HTMLDivElement>(dry ?? done)
  const call = async (dryRun: boolean) => {
    setBusy(dryRun ? 'dry' : 'run')
    setError(undefined)
    try {
      const r = await api<PurgeResult>('POST', '/api/v1/archives/purge', { dryRun })
      if (dryRun) {
        setDry(r)
        setDone(undefined)
      } else {
        setDone(r)
        setDry(undefined)
      }
      onRun()
    } catch (e) {
      setError(e)
    } finally {
      setBusy('')
    }
  }
  const run = async () => {
    if (!dry) return
    if (!(await ask(t('sys.arch.confirmPurge', { n: dry.count, asOf: dry.asOf }), t('sys.arch.run')))) return
    await call(false)
  }
  return (
    <section className="card-panel" aria-labelledby="purge-title">
      {dialog}
      <h2 id="purge-title">{t('sys.arch.purge')}</h2>
      <p className="hint">{t('sys.arch.purgeIntro')}</p>
      <div className="row">
        <button type="button" disabled={!!busy} onClick={() => void call(true)}>
          {t('sys.arch.dryRun')}
        </button>
        <button type="button" className="primary danger" disabled={!!busy || !dry} onClick={() => void run()}>
          {t('sys.arch.run')}
        </button>
        {!dry && <span className="hint">{t('sys.arch.dryFirst')}</span>}
      </div>
      {busy && <Loading label={t('common.working')} />}
      {error !== undefined && <ErrorBox error={error} />}
      {(dry ?? done) && (
        <div className="preview" role="status" tabIndex={-1} ref={resultRef} data-testid="purge-result">
          {dry ? (
            <>
              <p>{t('sys.arch.wouldGo', { n: int(dry.count), asOf: dry.asOf })}</p>
              {dry.items.length > 0 && (
                <table className="grid">
                  <caption className="sys-caption">{t('sys.arch.dueCaption', { n: dry.items.length })}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('queue.entry')}</th>
                      <th scope="col">{t('arch.retainUntil')}</th>
                      <th scope="col">{t('sys.arch.years')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {dry.items.map((x) => (
                      <tr key={x.entryId}>
                        <td>{x.entryId}</td>
                        <td>{x.retainUntil}</td>
                        <td>{x.retentionYears}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </>
          ) : (
            done && (
              <p>
                {t('sys.arch.purged', {
                  n: int(done.count),
                  asOf: done.asOf,
                  parts: done.droppedPartitions.join(', ') || t('common.none'),
                })}
              </p>
            )
          )}
        </div>
      )}
    </section>
  )
}

function History({ refresh }: { refresh: number }) {
  const { t } = useT()
  const { query, set } = useQueryState()
  const page = Math.max(1, Number(query.get('page')) || 1)
  const kind = query.get('runs') ?? ''
  const runs = useAsync(
    () =>
      api<{ items: PurgeRun[]; total: number }>(
        'GET',
        `/api/v1/archives/purge-runs?${new URLSearchParams({
          ...(kind ? { dryRun: String(kind === 'dry') } : {}),
          limit: String(SIZE),
          offset: String((page - 1) * SIZE),
        }).toString()}`,
      ),
    [page, kind, refresh],
  )
  const at = usePoll(runs.reload, runs.data)
  return (
    <section className="card-panel" aria-labelledby="runs-title">
      <div className="page-head">
        <h2 id="runs-title">{t('sys.arch.history')}</h2>
        <label htmlFor="runs-kind" className="inline">
          {t('sys.arch.show')}
          <select id="runs-kind" value={kind} onChange={(e) => set({ runs: e.target.value, page: undefined })}>
            <option value="">{t('portal.all')}</option>
            <option value="real">{t('sys.arch.realRuns')}</option>
            <option value="dry">{t('sys.arch.dryRuns')}</option>
          </select>
        </label>
        <Updated at={at} />
      </div>
      <Async state={runs} empty={(d) => d.items.length === 0} emptyText={t('sys.arch.noRuns')}>
        {(d) => (
          <>
            <table className="grid" data-testid="purge-runs">
              <caption className="sys-caption">{t('sys.arch.runsCaption', { total: d.total })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('sys.arch.startedAt')}</th>
                  <th scope="col">{t('sys.arch.runKind')}</th>
                  <th scope="col">{t('sys.arch.asOf')}</th>
                  <th scope="col" className="num">
                    {t('sys.arch.count')}
                  </th>
                  <th scope="col">{t('sys.arch.partitions')}</th>
                  <th scope="col">{t('audit.actor')}</th>
                  <th scope="col">{t('sys.arch.finishedAt')}</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((r) => (
                  <tr key={r.id} data-run={r.dryRun ? 'dry' : 'real'}>
                    <td>{chinaTime(r.startedAt)}</td>
                    <td>
                      <span className={`badge ${r.dryRun ? '' : 'state-rejected'}`}>
                        {t(r.dryRun ? 'sys.arch.dry' : 'sys.arch.real')}
                      </span>
                    </td>
                    <td>{r.asOf}</td>
                    <td className="num">{int(r.count)}</td>
                    <td>{r.droppedPartitions.join(', ') || '—'}</td>
                    <td>{r.actor}</td>
                    <td>
                      {r.finishedAt ? (
                        chinaTime(r.finishedAt)
                      ) : (
                        <strong className="warn">{t('sys.arch.stopped')}</strong>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager page={page} size={SIZE} total={d.total} onPage={(p) => set({ page: String(p) })} />
          </>
        )}
      </Async>
    </section>
  )
}
