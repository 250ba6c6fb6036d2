import { useEffect, useState, type FormEvent, type ReactNode } from 'react'
import type { Params } from '../../../../src/modules/selectivity/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { Async, ErrorBox, useAsync, useFocusOn } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime } from '../../lib/format.js'
import { useSession } from '../../session.js'
import { FieldError, fieldErrors, fieldOf, invalid } from '../../components/Fields.js'

interface ParamsVersion {
  version: number
  effectiveFrom: string
  params: Params
  createdBy: string
}

const CREDIT_LEVELS = ['ADVANCED_CERTIFIED', 'CERTIFIED', 'REGULAR', 'DISHONEST', 'SERIOUSLY_DISHONEST'] as const
type Level = (typeof CREDIT_LEVELS)[number]

/** The form's text values by parameter path (`thresholds/yellow`), so a field keeps what was typed until saved. */
type Draft = Record<string, string>

function toDraft(p: Params): Draft {
  const d: Draft = {
    minRandomRate: String(p.minRandomRate),
    randomLane: p.randomLane,
    randomSeed: String(p.randomSeed),
    'thresholds/yellow': String(p.thresholds.yellow),
    'thresholds/red': String(p.thresholds.red),
    aeoYellowToBlue: p.aeoYellowToBlue ? 'true' : '',
    'laneCaps/RED': String(p.laneCaps.RED),
    'laneCaps/YELLOW': String(p.laneCaps.YELLOW),
    capWindow: String(p.capWindow),
    reviewCreditLevels: p.reviewCreditLevels.join(','),
    autoClearTradeModes: p.autoClearTradeModes.join(', '),
    interceptScore: p.interceptScore === undefined ? '' : String(p.interceptScore),
    explorationRate: p.explorationRate === undefined ? '' : String(p.explorationRate),
  }
  for (const l of CREDIT_LEVELS) {
    d[`credit/${l}/factor`] = String(p.credit[l].factor)
    d[`credit/${l}/add`] = String(p.credit[l].add)
    d[`credit/${l}/minLane`] = p.credit[l].minLane ?? ''
  }
  return d
}

/** A number as typed; what is not a number goes as typed (null when empty) for the server to name the field. */
const num = (s: string): number | string | null => (s.trim() === '' ? null : Number.isNaN(Number(s)) ? s : Number(s))

function fromDraft(d: Draft): unknown {
  const credit: Record<string, unknown> = {}
  for (const l of CREDIT_LEVELS)
    credit[l] = {
      factor: num(d[`credit/${l}/factor`]!),
      add: num(d[`credit/${l}/add`]!),
      ...(d[`credit/${l}/minLane`] ? { minLane: d[`credit/${l}/minLane`] } : {}),
    }
  return {
    minRandomRate: num(d.minRandomRate!),
    randomLane: d.randomLane,
    randomSeed: num(d.randomSeed!),
    thresholds: { yellow: num(d['thresholds/yellow']!), red: num(d['thresholds/red']!) },
    credit,
    aeoYellowToBlue: d.aeoYellowToBlue === 'true',
    laneCaps: { RED: num(d['laneCaps/RED']!), YELLOW: num(d['laneCaps/YELLOW']!) },
    capWindow: num(d.capWindow!),
    reviewCreditLevels: d.reviewCreditLevels!.split(',').filter(Boolean),
    autoClearTradeModes: d
      .autoClearTradeModes!.split(/[,\s]+/)
      .map((s) => s.trim())
      .filter(Boolean),
    ...(d.interceptScore!.trim() !== '' ? { interceptScore: num(d.interceptScore!) } : {}),
    ...(d.explorationRate!.trim() !== '' ? { explorationRate: num(d.explorationRate!) } : {}),
  }
}

/** Selectivity parameters in force; admins publish a new version (validation errors at their fields). */
export function Selectivity() {
  const { t } = useT()
  const current = useAsync(() => api<ParamsVersion>('GET', '/api/v1/selectivity/params'), [])
  const [saved, setSaved] = useState<number>()
  const savedRef = useFocusOn<HTMLParagraphElement>(saved)
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('sys.sel.title')}</h1>
      </div>
      {saved !== undefined && (
        <p className="notice" role="status" tabIndex={-1} ref={savedRef} data-testid="params-saved">
          {t('sys.sel.saved', { v: saved })}
        </p>
      )}
      <Async state={current}>
        {(v) => (
          <ParamsForm
            key={v.version}
            current={v}
            onSaved={(n) => {
              setSaved(n)
              current.reload()
            }}
          />
        )}
      </Async>
    </Layout>
  )
}

function ParamsForm({ current, onSaved }: { current: ParamsVersion; onSaved: (version: number) => void }) {
  const { t } = useT()
  const s = useSession()
  const admin = s?.role === 'admin'
  const [draft, setDraft] = useState<Draft>(() => toDraft(current.params))
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const errors = fieldErrors(error, t)
  useEffect(() => {
    if (error !== undefined)
      document.querySelector<HTMLElement>('.sys-params [aria-invalid="true"]')?.focus({ preventScroll: false })
  }, [error])

  const setField = (k: string, v: string) => setDraft((d) => ({ ...d, [k]: v }))
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const r = await api<{ version: number }>('PUT', '/api/v1/selectivity/params', { params: fromDraft(draft) })
      onSaved(r.version)
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  /** One input, its label, error and hint; `k` is the parameter's path under /body/params. */
  const input = (
    k: string,
    label: string,
    o: { step?: string; hint?: string; wide?: boolean; hideLabel?: boolean } = {},
  ): ReactNode => {
    const id = `sel-${k.replace(/\//g, '-')}`
    const pointer = `/body/params/${k}`
    return (
      <label htmlFor={id} className={o.wide ? 'grow' : undefined}>
        {o.hideLabel ? <span className="sr-only">{label}</span> : label}
        <input
          id={id}
          name={k}
          inputMode={o.step ? 'decimal' : undefined}
          value={draft[k] ?? ''}
          onChange={(e) => setField(k, e.target.value)}
          {...invalid(`${id}-err`, errors[fieldOf(pointer)])}
          {...(o.hint ? { 'aria-describedby': errors[fieldOf(pointer)] ? `${id}-err ${id}-hint` : `${id}-hint` } : {})}
        />
        {o.hint && (
          <small className="hint" id={`${id}-hint`}>
            {o.hint}
          </small>
        )}
        <FieldError id={`${id}-err`} text={errors[fieldOf(pointer)]} />
      </label>
    )
  }
  const laneSelect = (k: string, label: string, options: string[], empty?: string, hideLabel = false) => {
    const id = `sel-${k.replace(/\//g, '-')}`
    const pointer = `/body/params/${k}`
    return (
      <label htmlFor={id}>
        {hideLabel ? <span className="sr-only">{label}</span> : label}
        <select
          id={id}
          value={draft[k] ?? ''}
          onChange={(e) => setField(k, e.target.value)}
          {...invalid(`${id}-err`, errors[fieldOf(pointer)])}>
          {empty !== undefined && <option value="">{empty}</option>}
          {options.map((o) => (
            <option key={o} value={o}>
              {t(`lane.${o}`)}
            </option>
          ))}
        </select>
        <FieldError id={`${id}-err`} text={errors[fieldOf(pointer)]} />
      </label>
    )
  }
  const review = new Set(draft.reviewCreditLevels!.split(',').filter(Boolean))
  const toggleReview = (l: Level) => {
    const next = new Set(review)
    if (next.has(l)) next.delete(l)
    else next.add(l)
    setField('reviewCreditLevels', CREDIT_LEVELS.filter((x) => next.has(x)).join(','))
  }

  return (
    <form className="sys-params" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="sel-form-title">
      <section className="card-panel">
        <h2 id="sel-form-title">{t('sys.sel.inForce', { v: current.version })}</h2>
        <p className="hint" data-testid="params-version">
          {t('sys.sel.versionOf', { time: chinaTime(current.effectiveFrom), who: current.createdBy })}
        </p>
        {!admin && <p className="notice">{t('sys.sel.readOnly')}</p>}
      </section>
      <fieldset disabled={!admin} className="card-panel sys-fieldset">
        <legend>{t('sys.sel.lanes')}</legend>
        <div className="row">
          {input('thresholds/yellow', t('sys.sel.yellow'), { step: '1', hint: '0–100' })}
          {input('thresholds/red', t('sys.sel.red'), { step: '1', hint: '0–100' })}
          {input('interceptScore', t('sys.sel.interceptScore'), { step: '1', hint: '0–100' })}
          {input('laneCaps/RED', t('sys.sel.capRed'), { step: '0.01', hint: '0–1' })}
          {input('laneCaps/YELLOW', t('sys.sel.capYellow'), { step: '0.01', hint: '0–1' })}
          {input('capWindow', t('sys.sel.capWindow'), { step: '1', hint: '10–100000' })}
        </div>
        <label className="inline">
          <input
            type="checkbox"
            name="aeoYellowToBlue"
            checked={draft.aeoYellowToBlue === 'true'}
            onChange={(e) => setField('aeoYellowToBlue', e.target.checked ? 'true' : '')}
          />
          {t('sys.sel.aeoBlue')}
        </label>
      </fieldset>
      <fieldset disabled={!admin} className="card-panel sys-fieldset">
        <legend>{t('sys.sel.random')}</legend>
        <div className="row">
          {input('minRandomRate', t('sys.sel.minRandomRate'), { step: '0.001', hint: '0–1' })}
          {laneSelect('randomLane', t('sys.sel.randomLane'), ['RED', 'YELLOW'])}
          {input('randomSeed', t('sys.sel.randomSeed'), { step: '1' })}
          {input('explorationRate', t('sys.sel.explorationRate'), { step: '0.001', hint: '0–1' })}
        </div>
      </fieldset>
      <fieldset disabled={!admin} className="card-panel sys-fieldset">
        <legend>{t('sys.sel.credit')}</legend>
        <table className="grid">
          <caption className="sys-caption">{t('sys.sel.creditCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('decl.credit')}</th>
              <th scope="col">{t('sys.sel.factor')}</th>
              <th scope="col">{t('sys.sel.add')}</th>
              <th scope="col">{t('sys.sel.minLane')}</th>
              <th scope="col">{t('sys.sel.review')}</th>
            </tr>
          </thead>
          <tbody>
            {CREDIT_LEVELS.map((l) => (
              <tr key={l}>
                <th scope="row">{t(`credit.${l}`)}</th>
                <td>
                  {input(`credit/${l}/factor`, `${t(`credit.${l}`)} ${t('sys.sel.factor')}`, {
                    step: '0.1',
                    hideLabel: true,
                  })}
                </td>
                <td>
                  {input(`credit/${l}/add`, `${t(`credit.${l}`)} ${t('sys.sel.add')}`, { step: '1', hideLabel: true })}
                </td>
                <td>
                  {laneSelect(
                    `credit/${l}/minLane`,
                    `${t(`credit.${l}`)} ${t('sys.sel.minLane')}`,
                    ['YELLOW', 'RED'],
                    '—',
                    true,
                  )}
                </td>
                <td>
                  <label className="inline">
                    <input type="checkbox" checked={review.has(l)} onChange={() => toggleReview(l)} />
                    <span className="sr-only">{t(`credit.${l}`)}</span> {t('sys.sel.review')}
                  </label>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <FieldError id="sel-review-err" text={errors['params/reviewCreditLevels']} />
      </fieldset>
      <fieldset disabled={!admin} className="card-panel sys-fieldset">
        <legend>{t('sys.sel.clearance')}</legend>
        <div className="row">
          {input('autoClearTradeModes', t('sys.sel.autoClear'), { wide: true, hint: t('sys.sel.autoClearHint') })}
        </div>
        {Object.keys(errors)
          .filter((p) => p.startsWith('params/autoClearTradeModes/'))
          .map((p) => (
            <p key={p} className="field-error">
              {p.split('/').pop()}: {errors[p]}
            </p>
          ))}
      </fieldset>
      {error !== undefined && <ErrorBox error={error} />}
      {admin && (
        <div className="row actions">
          <button type="submit" className="primary" disabled={busy}>
            {t('sys.sel.publish')}
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              setDraft(toDraft(current.params))
              setError(undefined)
            }}>
            {t('sys.sel.reset')}
          </button>
        </div>
      )}
    </form>
  )
}
