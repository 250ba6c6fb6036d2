import { useState, type FormEvent } from 'react'
import type { Rule } from '../../../src/modules/selectivity/schema.js'
import type { RulePreview } from '../../../src/modules/console/schema.js'
import { api } from '../api.js'
import { Layout } from '../components/Layout.js'
import { Async, ErrorBox, Loading, useAsync } from '../components/States.js'
import { useT } from '../i18n.js'
import { chinaTime, percent } from '../lib/format.js'
import { Link } from '../router.js'
import { FIELDS, OPS } from '../../../src/modules/selectivity/fields.js'

const NUMERIC = new Set([
  'quantity',
  'unitValueCny',
  'itemValueCny',
  'totalValueCny',
  'grossMassKg',
  'packages',
  'itemCount',
])
const LIST_OPS = new Set(['in', 'notIn', 'prefix', 'notPrefix', 'between'])

interface Draft {
  field: string
  op: string
  value: string
}

/** The condition's value as the API takes it: numbers for numeric fields and comparisons, lists for list operators. */
export function conditionValue(d: Draft): string | number | Array<string | number> {
  const numeric = NUMERIC.has(d.field) || ['lt', 'lte', 'gt', 'gte', 'between'].includes(d.op)
  const one = (s: string) => (numeric && s.trim() !== '' && !Number.isNaN(Number(s)) ? Number(s) : s.trim())
  return LIST_OPS.has(d.op)
    ? d.value
        .split(',')
        .map(one)
        .filter((x) => x !== '')
    : one(d.value)
}

export function Rules() {
  const { t } = useT()
  const rules = useAsync(() => api<{ items: Rule[] }>('GET', '/api/v1/selectivity/rules'), [])
  const [conds, setConds] = useState<Draft[]>([{ field: 'hsCode', op: 'prefix', value: '8517' }])
  const [lane, setLane] = useState<'' | 'RED' | 'YELLOW'>('YELLOW')
  const [score, setScore] = useState('')
  const [days, setDays] = useState('30')
  const [preview, setPreview] = useState<RulePreview>()
  const [busy, setBusy] = useState<'' | 'preview' | 'create' | string>('')
  const [error, setError] = useState<unknown>()
  const [created, setCreated] = useState(false)
  const conditions = () => conds.map((c) => ({ field: c.field, op: c.op, value: conditionValue(c) }))
  const action = (reason: string) => ({
    ...(lane ? { lane } : {}),
    ...(score ? { score: Number(score) } : {}),
    ...(reason ? { reason } : {}),
  })
  const set = (i: number, p: Partial<Draft>) => {
    setConds(conds.map((c, j) => (j === i ? { ...c, ...p } : c)))
    setPreview(undefined)
  }

  const run = async (what: string, f: () => Promise<void>) => {
    setBusy(what)
    setError(undefined)
    try {
      await f()
    } catch (e) {
      setError(e)
    } finally {
      setBusy('')
    }
  }
  const doPreview = () =>
    run('preview', async () => {
      setPreview(
        await api<RulePreview>('POST', '/api/v1/console/rules/preview', {
          conditions: conditions(),
          days: Number(days) || 30,
        }),
      )
    })
  const create = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const f = new FormData(e.currentTarget)
    void run('create', async () => {
      await api('POST', '/api/v1/selectivity/rules', {
        name: String(f.get('name')),
        description: String(f.get('description') ?? ''),
        conditions: conditions(),
        action: action(String(f.get('reason') ?? '')),
      })
      setCreated(true)
      rules.reload()
    })
  }
  const toggle = (r: Rule) =>
    run(r.id, async () => {
      await api('POST', `/api/v1/selectivity/rules/${r.id}/${r.active ? 'deactivate' : 'activate'}`)
      rules.reload()
    })

  return (
    <Layout>
      <div className="page-head">
        <h1>{t('rules.title')}</h1>
      </div>
      <form className="card-panel rule-editor" onSubmit={create} aria-label={t('rules.new')}>
        <h2>{t('rules.new')}</h2>
        <div className="row">
          <label>
            {t('rules.name')}
            <input
              name="name"
              required
              pattern="[A-Za-z0-9][A-Za-z0-9_.\-]*"
              maxLength={100}
              placeholder="phones-vietnam"
            />
          </label>
          <label className="grow">
            {t('rules.description')}
            <input name="description" maxLength={1000} />
          </label>
        </div>
        <fieldset>
          <legend>{t('rules.conditions')}</legend>
          <p className="hint">{t('rules.valueHint')}</p>
          {conds.map((c, i) => (
            <div className="row" key={i}>
              <label>
                {t('rules.field')}
                <select value={c.field} onChange={(e) => set(i, { field: e.target.value })}>
                  {FIELDS.map((f) => (
                    <option key={f} value={f}>
                      {t(`field.${f}`)}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {t('rules.op')}
                <select value={c.op} onChange={(e) => set(i, { op: e.target.value })}>
                  {OPS.map((o) => (
                    <option key={o} value={o}>
                      {t(`op.${o}`)}
                    </option>
                  ))}
                </select>
              </label>
              <label className="grow">
                {t('rules.value')}
                <input value={c.value} required onChange={(e) => set(i, { value: e.target.value })} />
              </label>
              {conds.length > 1 && (
                <button
                  type="button"
                  onClick={() => {
                    setConds(conds.filter((_, j) => j !== i))
                    setPreview(undefined)
                  }}>
                  {t('res.remove')}
                </button>
              )}
            </div>
          ))}
          <button type="button" onClick={() => setConds([...conds, { field: 'originCountry', op: 'eq', value: '' }])}>
            {t('rules.addCondition')}
          </button>
        </fieldset>
        <fieldset>
          <legend>{t('rules.action')}</legend>
          <div className="row">
            <label>
              {t('rules.lane')}
              <select value={lane} onChange={(e) => setLane(e.target.value as typeof lane)}>
                <option value="">—</option>
                <option value="RED">{t('lane.RED')}</option>
                <option value="YELLOW">{t('lane.YELLOW')}</option>
              </select>
            </label>
            <label>
              {t('rules.scoreAdd')}
              <input type="number" min={-100} max={100} value={score} onChange={(e) => setScore(e.target.value)} />
            </label>
            <label className="grow">
              {t('rules.reason')}
              <input name="reason" maxLength={200} />
            </label>
          </div>
        </fieldset>
        <div className="row actions">
          <label>
            {t('rules.days')}
            <input
              type="number"
              min={1}
              max={366}
              value={days}
              onChange={(e) => {
                setDays(e.target.value)
                setPreview(undefined)
              }}
            />
          </label>
          <button type="button" onClick={() => void doPreview()} disabled={!!busy}>
            {t('rules.preview')}
          </button>
          <button type="submit" className="primary" disabled={!!busy || (!lane && !score)}>
            {t('rules.create')}
          </button>
        </div>
        {busy === 'preview' && <Loading />}
        {preview && (
          <div className="preview" role="status" data-testid="preview">
            <p>
              {t('rules.previewResult', {
                days,
                scanned: preview.scanned,
                selected: preview.selected,
                share: percent(preview.selectedShare),
              })}
            </p>
            <p>
              {t('rules.pastHit', {
                inspected: preview.selectedInspected.inspected,
                nc: preview.selectedInspected.nonCompliant,
                rate: percent(preview.selectedInspected.hitRate),
                base: percent(preview.baseline.hitRate),
              })}
            </p>
            {preview.examples.length > 0 && (
              <p>
                {t('rules.examples')}:{' '}
                {preview.examples.map((x, i) => (
                  <span key={x.id}>
                    {i > 0 && ', '}
                    <Link to={`/officer/declarations/${x.id}`}>{x.entryId ?? x.id.slice(0, 8)}</Link>
                  </span>
                ))}
              </p>
            )}
          </div>
        )}
        {created && (
          <p className="notice" role="status">
            {t('rules.created')}
          </p>
        )}
        {error !== undefined && <ErrorBox error={error} />}
      </form>
      <section className="card-panel">
        <Async state={rules} empty={(d) => d.items.length === 0} emptyText={t('rules.none')}>
          {(d) => (
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">{t('rules.name')}</th>
                  <th scope="col">{t('rules.conditions')}</th>
                  <th scope="col">{t('rules.action')}</th>
                  <th scope="col">{t('rules.createdBy')}</th>
                  <th scope="col">{t('rules.activatedBy')}</th>
                  <th scope="col">{t('models.status')}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {d.items.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <strong>{r.name}</strong>
                      <br />
                      <small>{r.description}</small>
                    </td>
                    <td>
                      {r.conditions
                        .map(
                          (c) =>
                            `${t(`field.${c.field}`)} ${t(`op.${c.op}`)} ${Array.isArray(c.value) ? c.value.join(', ') : c.value}`,
                        )
                        .join(' ∧ ')}
                    </td>
                    <td>
                      {r.action.lane ? t(`lane.${r.action.lane}`) : ''}
                      {r.action.score ? ` +${r.action.score}` : ''}
                    </td>
                    <td>
                      {r.createdBy}
                      <br />
                      <small>{chinaTime(r.createdAt)}</small>
                    </td>
                    <td>{r.activatedBy ?? '—'}</td>
                    <td>{r.active ? t('rules.active') : t('rules.inactive')}</td>
                    <td>
                      <button type="button" disabled={busy === r.id} onClick={() => void toggle(r)}>
                        {r.active ? t('rules.deactivate') : t('rules.activate')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Async>
      </section>
    </Layout>
  )
}
