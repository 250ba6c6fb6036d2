import { useState } from 'react'
import type { PurgeResult, PurgeRun, RetentionRule } from '../../../../src/modules/archives/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { useConfirm } from '../../components/Dialog.js'
import { CellInput, useRowsEditor } from '../../components/Rows.js'
import { Pager } from '../../components/Pager.js'
import { Async, ErrorBox, Loading, Updated, useAsync, useFocusOn, usePolled } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime, int } from '../../lib/format.js'
import { useQuery } from '../../router.js'

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
  const ed = useRowsEditor(initial, async (rows) => {
    const r = await api<{ items: RetentionRule[] }>('PUT', '/api/v1/archives/retention-rules', {
      items: rows.map((x) => ({ ...x, years: Number.isNaN(Number(x.years)) ? x.years : Number(x.years) })),
    })
    onSaved()
    return r.items
  })
  const { rows, set, errors, error, busy, saved } = ed
  const savedRef = useFocusOn<HTMLParagraphElement>(saved)
  const [dialog, ask] = useConfirm()
  const input = (i: number, k: 'value' | 'years' | 'basis', label: string) => (
    <td>
      <CellInput
        id={`ret-${i}-${k}`}
        label={`${label} #${i + 1}`}
        error={ed.rowError(i, k)}
        value={String(rows[i]![k])}
        size={k === 'basis' ? 30 : 8}
        inputMode={k === 'years' ? 'numeric' : undefined}
        onChange={(e) => set(i, { [k]: e.target.value } as Partial<RetentionRule>)}
      />
    </td>
  )
  return (
    <form onSubmit={ed.submit} noValidate>
      {dialog}
      <table className="grid" data-testid="retention">
        <caption className="sys-caption">{t('sys.arch.rulesCaption', { n: rows.length })}</caption>
        <thead>
          <tr>
            <th scope="col">{t('sys.arch.kind')}</th>
            <th scope="col">{t('rules.value')}</th>
            <th scope="col">{t('sys.arch.years')}</th>
            <th scope="col">{t('sys.arch.basis')}</th>
            <th scope="col">{t('common.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              <td>
                <label htmlFor={`ret-${i}-kind`}>
                  <span className="sr-only">
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
                      (ok) => ok && ed.remove(i),
                    )
                  }>
                  {t('res.remove')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {errors.items && <p className="field-error">{errors.items}</p>}
      {error !== undefined && <ErrorBox error={error} />}
      {saved > 0 && (
        <p className="notice" role="status" tabIndex={-1} ref={savedRef}>
          {t('sys.arch.rulesSaved')}
        </p>
      )}
      <div className="row actions">
        <button type="button" onClick={() => ed.add({ kind: 'TRADE_MODE', value: '', years: 3, basis: '' })}>
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
  const { query, set } = useQuery()
  const page = Math.max(1, Number(query.get('page')) || 1)
  const kind = query.get('runs') ?? ''
  const runs = usePolled(
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
        <Updated at={runs.updatedAt} error={runs.error} />
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
            <Pager
              offset={(page - 1) * SIZE}
              total={d.total}
              page={SIZE}
              onChange={(o) => set({ page: o / SIZE + 1 })}
            />
          </>
        )}
      </Async>
    </section>
  )
}
