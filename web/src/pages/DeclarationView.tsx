import { useState, type FormEvent } from 'react'
import type { Declaration } from '../../../src/modules/declarations/schema.js'
import type { Inspection } from '../../../src/modules/inspections/schema.js'
import type { Enterprise } from '../../../src/modules/enterprises/schema.js'
import type { Certificate } from '../../../src/modules/certificates/schema.js'
import { api } from '../api.js'
import { Layout } from '../components/Layout.js'
import { Async, ErrorBox, Loading, useAsync } from '../components/States.js'
import { useT } from '../i18n.js'
import { explainReason } from '../lib/explain.js'
import { chinaTime } from '../lib/format.js'
import { useSession } from '../session.js'

interface AuditEntry {
  chain: number
  seq: number
  at: string
  actor: string
  action: string
  data: unknown
  hash: string
}
interface View {
  d: Declaration
  audit: AuditEntry[]
  inspections: Inspection[]
  trader?: Enterprise
  certificates: Certificate[]
}

const CATEGORIES = [
  'UNDERVALUATION',
  'MISCLASSIFICATION',
  'ORIGIN',
  'QUANTITY',
  'PROHIBITED',
  'DANGEROUS_GOODS',
  'QUALITY_SAFETY',
  'IP_INFRINGEMENT',
  'OTHER',
] as const
const DISPOSALS = ['RETURN', 'DESTROY', 'TECHNICAL_TREATMENT', 'CASE_OPENED', 'RELEASE'] as const
const TIMES = [
  'submittedAt',
  'acceptedAt',
  'rejectedAt',
  'assessedAt',
  'inspectionOrderedAt',
  'releasedAt',
  'detainedAt',
  'returnedAt',
  'clearedAt',
] as const

async function load(id: string, officer: boolean): Promise<View> {
  const d = await api<Declaration>('GET', `/api/v1/declarations/${id}`)
  const [audit, inspections, trader, certificates] = await Promise.all([
    api<{ items: AuditEntry[] }>('GET', `/api/v1/declarations/${d.id}/audit`).then((r) => r.items),
    officer
      ? api<{ items: Inspection[] }>('GET', `/api/v1/inspections?declarationId=${d.id}`).then((r) => r.items)
      : Promise.resolve([]),
    officer ? api<Enterprise>('GET', `/api/v1/enterprises/${d.traderId}`) : Promise.resolve(undefined),
    // Certificates are another module's; a server without it simply shows none.
    api<{ items: Certificate[] }>('GET', `/api/v1/certificates?declarationId=${d.id}`).then(
      (r) => r.items,
      () => [],
    ),
  ])
  return { d, audit, inspections, certificates, ...(trader ? { trader } : {}) }
}

/** A declaration: header, items, risk score with reasons in words, history, inspections and the audit trail; officers record results here. */
export function DeclarationView({ id }: { id: string }) {
  const { t, lang } = useT()
  const s = useSession()
  const officer = s?.kind === 'user'
  const v = useAsync(() => load(id, officer), [id, officer])
  return (
    <Layout>
      <Async state={v}>
        {({ d, audit, inspections, trader, certificates }) => {
          const c = d.content
          const open = inspections.find((i) => i.state !== 'DONE')
          return (
            <article className="declaration" data-state={d.state}>
              {new URLSearchParams(location.search).get('new') === '1' && (
                <p className="notice" role="status">
                  {t('new.submitted', {
                    entry: d.entryId ?? d.clientRef,
                    lane: d.lane ? t(`lane.${d.lane}`) : t(`state.${d.state}`),
                  })}
                </p>
              )}
              <div className="page-head">
                <h1>{t('decl.title', { id: d.entryId ?? d.clientRef })}</h1>
                <span className={`badge state-${d.state.toLowerCase()}`} data-testid="state">
                  {t(`state.${d.state}`)}
                </span>
                {d.lane && <span className={`badge lane-${d.lane.toLowerCase()}`}>{t(`lane.${d.lane}`)}</span>}
              </div>
              <section className="card-panel">
                <h2>{t('decl.header')}</h2>
                <dl className="facts">
                  <div>
                    <dt>{t('decl.ieFlag')}</dt>
                    <dd>{t(`decl.${c.ieFlag}`)}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.trader')}</dt>
                    <dd>{trader ? `${trader.name} (${trader.customsCode})` : c.traderCode}</dd>
                  </div>
                  {trader && (
                    <div>
                      <dt>{t('decl.credit')}</dt>
                      <dd>{t(`credit.${trader.creditLevel}`)}</dd>
                    </div>
                  )}
                  <div>
                    <dt>{t('decl.declarantCode')}</dt>
                    <dd>{c.declarantCode}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.district')}</dt>
                    <dd>{c.customsDistrict}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.port')}</dt>
                    <dd>{c.iePort}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.tradeMode')}</dt>
                    <dd>{c.tradeMode}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.transport')}</dt>
                    <dd>{c.transportMode}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.tradeCountry')}</dt>
                    <dd>{c.tradeCountry}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.billNo')}</dt>
                    <dd>{c.billNo ?? '—'}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.packages')}</dt>
                    <dd>{c.packages}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.gross')}</dt>
                    <dd>{c.grossMassKg}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.net')}</dt>
                    <dd>{c.netMassKg}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.value')}</dt>
                    <dd>{d.totalValueCny}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.card')}</dt>
                    <dd>{d.cardNo}</dd>
                  </div>
                  <div>
                    <dt>{t('decl.clientRef')}</dt>
                    <dd>{d.clientRef}</dd>
                  </div>
                </dl>
              </section>
              <section className="card-panel">
                <h2>{t('decl.items')}</h2>
                <table className="grid">
                  <thead>
                    <tr>
                      <th scope="col">{t('item.no')}</th>
                      <th scope="col">{t('item.hs')}</th>
                      <th scope="col">{t('item.desc')}</th>
                      <th scope="col" className="num">
                        {t('item.qty')}
                      </th>
                      <th scope="col">{t('item.unit')}</th>
                      <th scope="col" className="num">
                        {t('item.price')}
                      </th>
                      <th scope="col" className="num">
                        {t('item.total')} ({c.currency})
                      </th>
                      <th scope="col">{t('item.origin')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {c.items.map((it, i) => (
                      <tr key={i}>
                        <td>{i + 1}</td>
                        <td>
                          <code>{it.hsCode}</code>
                        </td>
                        <td>{it.description}</td>
                        <td className="num">{it.quantity}</td>
                        <td>{it.unit}</td>
                        <td className="num">{it.unitPrice}</td>
                        <td className="num">{it.totalValue}</td>
                        <td>{it.originCountry}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
              {/* Targeting stays with customs: traders see their lane, never the score or the rules that chose it. */}
              {officer && d.risk && (
                <section className="card-panel risk">
                  <h2>{t('decl.risk')}</h2>
                  <p className="score-line">
                    <span
                      className={`score ${d.risk.score >= 71 ? 'high' : d.risk.score >= 31 ? 'medium' : 'low'}`}
                      data-testid="score">
                      {t('decl.score', { score: d.risk.score })}
                    </span>
                    <span>
                      {t('decl.source')}: {t(`source.${d.risk.source}`)}
                    </span>
                    <span>v{d.risk.paramsVersion}</span>
                  </p>
                  <h3>{t('decl.reasons')}</h3>
                  <ul className="reasons-list">
                    {d.risk.reasons.map((r, i) => {
                      const e = explainReason(r, lang)
                      return (
                        <li key={i}>
                          <span className="reason-kind">{e.kind}</span> <span>{e.text}</span>
                          {e.weight !== undefined && (
                            <span
                              className="weight"
                              aria-hidden="true"
                              style={{ width: `${Math.min(100, Math.max(4, e.weight * 40))}px` }}
                            />
                          )}
                        </li>
                      )
                    })}
                  </ul>
                </section>
              )}
              {d.errors && d.errors.length > 0 && (
                <ErrorBox error={new Error(d.errors.map((e) => `${e.pointer}: ${e.message}`).join('; '))} />
              )}
              <section className="card-panel">
                <h2>{t('decl.history')}</h2>
                <ol className="timeline">
                  {TIMES.filter((k) => d[k]).map((k) => (
                    <li key={k}>
                      <time>{chinaTime(d[k])}</time> {t(`hist.${k}`)}
                    </li>
                  ))}
                </ol>
              </section>
              {officer && (
                <section className="card-panel">
                  <h2>{t('decl.inspections')}</h2>
                  {inspections.length === 0 ? (
                    <p>{t('common.none')}</p>
                  ) : (
                    <ul className="inspections">
                      {inspections.map((i) => (
                        <li key={i.id}>
                          {t(`kind.${i.kind}`)} · {t(`source.${i.source}`)} ·{' '}
                          {i.state === 'DONE' ? chinaTime(i.finishedAt) : t(`queue.${i.state}`)}
                          {i.result && (
                            <>
                              {' '}
                              · <strong>{t(`result.${i.result}`)}</strong>
                            </>
                          )}
                          {i.findings?.length ? (
                            <> · {i.findings.map((f) => t(`cat.${f.category}`)).join('、')}</>
                          ) : null}
                          {i.disposal && <> · {t(`disp.${i.disposal}`)}</>}
                          {i.notes && <> · {i.notes}</>}
                        </li>
                      ))}
                    </ul>
                  )}
                  {open && <ResultForm inspection={open} items={c.items.length} onDone={v.reload} />}
                  <Moves d={d} onDone={v.reload} />
                </section>
              )}
              {(certificates.length > 0 ||
                (officer && d.ieFlag === 'I' && (d.state === 'RELEASED' || d.state === 'CLEARED'))) && (
                <section className="card-panel">
                  <h2>{t('cert.title')}</h2>
                  {certificates.length > 0 && (
                    <ul>
                      {certificates.map((x) => (
                        <li key={x.id} data-certificate={x.number}>
                          <strong>{x.number}</strong> · {chinaTime(x.issuedAt)} ·{' '}
                          {x.revokedAt ? `${t('cert.revoked')} ${x.revocationReason ?? ''}` : t('cert.valid')} ·{' '}
                          <a href={x.verifyUrl} target="_blank" rel="noopener">
                            {t('cert.verifyLink')}
                          </a>
                          {officer && !x.revokedAt && <RevokeCertificate number={x.number} onDone={v.reload} />}
                        </li>
                      ))}
                    </ul>
                  )}
                  {officer && !certificates.some((x) => !x.revokedAt) && (
                    <IssueCertificate declarationId={d.id} onDone={v.reload} />
                  )}
                </section>
              )}
              <section className="card-panel">
                <h2>{t('decl.audit')}</h2>
                <table className="grid audit">
                  <thead>
                    <tr>
                      <th scope="col">{t('audit.at')}</th>
                      <th scope="col">{t('audit.actor')}</th>
                      <th scope="col">{t('audit.action')}</th>
                      <th scope="col">{t('audit.hash')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {audit.map((a) => (
                      <tr key={`${a.chain}-${a.seq}`}>
                        <td>{chinaTime(a.at)}</td>
                        <td>{a.actor}</td>
                        <td>{auditAction(a.action, t)}</td>
                        <td>
                          <code title={a.hash}>{a.hash.slice(0, 12)}…</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            </article>
          )
        }}
      </Async>
    </Layout>
  )
}

interface Finding {
  category: string
  itemNo: string
  note: string
}

function ResultForm({ inspection, items, onDone }: { inspection: Inspection; items: number; onDone: () => void }) {
  const { t } = useT()
  const [result, setResult] = useState<'COMPLIANT' | 'NON_COMPLIANT'>('COMPLIANT')
  const [findings, setFindings] = useState<Finding[]>([{ category: 'UNDERVALUATION', itemNo: '1', note: '' }])
  const [disposal, setDisposal] = useState<string>('TECHNICAL_TREATMENT')
  const [notes, setNotes] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const set = (i: number, f: Partial<Finding>) => setFindings(findings.map((x, j) => (j === i ? { ...x, ...f } : x)))

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const body =
        result === 'COMPLIANT'
          ? { result, findings: [], ...(notes ? { notes } : {}) }
          : {
              result,
              disposal,
              findings: findings.map((f) => ({
                category: f.category,
                ...(f.itemNo ? { itemNo: Number(f.itemNo) } : {}),
                ...(f.note ? { note: f.note } : {}),
              })),
              ...(notes ? { notes } : {}),
            }
      await api('POST', `/api/v1/inspections/${inspection.id}/result`, body)
      onDone()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  const start = async () => {
    setBusy(true)
    setError(undefined)
    try {
      await api('POST', `/api/v1/inspections/${inspection.id}/start`)
      onDone()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="result-form" onSubmit={submit} aria-label={t('res.title')}>
      <h3>{t('res.title')}</h3>
      {inspection.state === 'OPEN' && (
        <button type="button" onClick={start} disabled={busy}>
          {t('res.start')}
        </button>
      )}
      <fieldset>
        <legend>{t('res.result')}</legend>
        {(['COMPLIANT', 'NON_COMPLIANT'] as const).map((r) => (
          <label key={r} className="radio">
            <input type="radio" name="result" value={r} checked={result === r} onChange={() => setResult(r)} />{' '}
            {t(`result.${r}`)}
          </label>
        ))}
      </fieldset>
      {result === 'NON_COMPLIANT' && (
        <>
          <fieldset>
            <legend>{t('res.findings')}</legend>
            {findings.map((f, i) => (
              <div className="row" key={i}>
                <label>
                  {t('res.category')}
                  <select value={f.category} onChange={(e) => set(i, { category: e.target.value })}>
                    {CATEGORIES.map((c) => (
                      <option key={c} value={c}>
                        {t(`cat.${c}`)}
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  {t('res.item')}
                  <select value={f.itemNo} onChange={(e) => set(i, { itemNo: e.target.value })}>
                    <option value="">—</option>
                    {Array.from({ length: items }, (_, k) => (
                      <option key={k} value={k + 1}>
                        {k + 1}
                      </option>
                    ))}
                  </select>
                </label>
                <label className="grow">
                  {t('res.note')}
                  <input value={f.note} maxLength={1000} onChange={(e) => set(i, { note: e.target.value })} />
                </label>
                {findings.length > 1 && (
                  <button type="button" onClick={() => setFindings(findings.filter((_, j) => j !== i))}>
                    {t('res.remove')}
                  </button>
                )}
              </div>
            ))}
            <button
              type="button"
              onClick={() => setFindings([...findings, { category: 'OTHER', itemNo: '', note: '' }])}>
              {t('res.addFinding')}
            </button>
          </fieldset>
          <label>
            {t('res.disposal')}
            <select name="disposal" value={disposal} onChange={(e) => setDisposal(e.target.value)}>
              {DISPOSALS.map((x) => (
                <option key={x} value={x}>
                  {t(`disp.${x}`)}
                </option>
              ))}
            </select>
          </label>
        </>
      )}
      <label>
        {t('res.notes')}
        <textarea value={notes} maxLength={2000} rows={2} onChange={(e) => setNotes(e.target.value)} />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        {t('res.submit')}
      </button>
      {busy && <Loading label={t('common.working')} />}
      {error !== undefined && <ErrorBox error={error} />}
    </form>
  )
}

/** Officer moves outside inspections: accept or reject a held declaration, release or return detained goods, close (结关). */
function Moves({ d, onDone }: { d: Declaration; onDone: () => void }) {
  const { t } = useT()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const [reason, setReason] = useState('')
  const move = async (path: string, body?: unknown) => {
    setBusy(true)
    setError(undefined)
    try {
      await api('POST', `/api/v1/declarations/${d.id}/${path}`, body ?? {})
      onDone()
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  const buttons: Array<[string, string]> =
    d.state === 'DETAINED'
      ? [
          ['release', 'move.release'],
          ['return', 'move.return'],
        ]
      : d.state === 'RELEASED' || d.state === 'RETURNED'
        ? [['clear', 'move.clear']]
        : []
  if (d.state !== 'SUBMITTED' && buttons.length === 0) return null
  return (
    <div className="moves">
      <h3>{t('move.title')}</h3>
      {d.state === 'SUBMITTED' && (
        <div className="row">
          <button type="button" className="primary" disabled={busy} onClick={() => void move('accept')}>
            {t('move.accept')}
          </button>
          <label className="grow">
            {t('move.rejectReason')}
            <input value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
          </label>
          <button
            type="button"
            disabled={busy || !reason}
            onClick={() =>
              void move('reject', {
                errors: [{ code: 'DECLARATION_REJECTED_BY_OFFICER', message: reason, pointer: '' }],
              })
            }>
            {t('move.reject')}
          </button>
        </div>
      )}
      {buttons.length > 0 && (
        <div className="row">
          {buttons.map(([p, k]) => (
            <button key={p} type="button" disabled={busy} onClick={() => void move(p)}>
              {t(k)}
            </button>
          ))}
        </div>
      )}
      {busy && <Loading label={t('common.working')} />}
      {error !== undefined && <ErrorBox error={error} />}
    </div>
  )
}

/** Audit actions in words: the declaration's moves by the state they reach, anything else as recorded. */
function auditAction(action: string, t: ReturnType<typeof useT>['t']): string {
  const m = /^DECLARATION_([A-Z]+)$/.exec(action)
  const state = m ? t(`state.${m[1]}`) : action
  return state.startsWith('state.') ? action : m ? `→ ${state}` : action
}

/** An officer issues the certificate of released quarantine goods when it was not issued automatically (e.g. after a disposal). */
function IssueCertificate({ declarationId, onDone }: { declarationId: string; onDone: () => void }) {
  const { t } = useT()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const issue = async () => {
    setBusy(true)
    setError(undefined)
    try {
      await api('POST', '/api/v1/certificates', { declarationId })
      onDone()
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="row">
      <button type="button" disabled={busy} onClick={() => void issue()}>
        {t('cert.issue')}
      </button>
      {busy && <Loading label={t('common.working')} />}
      {error !== undefined && <ErrorBox error={error} />}
    </div>
  )
}

const REVOKE_REASONS = ['WITHDRAWN', 'ISSUED_IN_ERROR', 'GOODS_NONCOMPLIANT'] as const

function RevokeCertificate({ number, onDone }: { number: string; onDone: () => void }) {
  const { t } = useT()
  const [reason, setReason] = useState<(typeof REVOKE_REASONS)[number]>('WITHDRAWN')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const revoke = async () => {
    if (!confirm(t('cert.confirmRevoke', { number }))) return
    setBusy(true)
    setError(undefined)
    try {
      await api('POST', `/api/v1/certificates/${number}/revoke`, { reason })
      onDone()
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return (
    <span className="inline-form">
      {' '}
      <select
        aria-label={t('cert.revokeReason')}
        value={reason}
        onChange={(e) => setReason(e.target.value as typeof reason)}>
        {REVOKE_REASONS.map((r) => (
          <option key={r} value={r}>
            {t(`revoke.${r}`)}
          </option>
        ))}
      </select>{' '}
      <button type="button" disabled={busy} onClick={() => void revoke()}>
        {t('cert.revoke')}
      </button>
      {error !== undefined && <ErrorBox error={error} />}
    </span>
  )
}
