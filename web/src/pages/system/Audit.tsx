import { useState, type FormEvent } from 'react'
import type { Checkpoint, CheckpointKey } from '../../../../src/modules/audit/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { Async, ErrorBox, Loading, Updated, useAsync, useFocusOn, usePolled } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime, int } from '../../lib/format.js'
import { Link, useQuery } from '../../router.js'

interface Report {
  ok: boolean
  chains: number
  rows: number
  problems: Array<{ chain: number; seq: number; problem: string; firstDifferenceBetween?: number[] }>
  triggers: Array<{ table: string; trigger: string; state: string }>
  checkpoints?: {
    lines: number
    used: number
    keys: Array<{ kid: string; alg: string; pinned: boolean; checkpoints: number }>
    problems: Array<{ line: number; problem: string; message: string }>
  }
}

const PAGE = 50

/** Audit log verification (as `kouan audit verify`), the signed checkpoints and their keys (admins). */
export function Audit() {
  const { t } = useT()
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('sys.audit.title')}</h1>
      </div>
      <Verify />
      <Keys />
      <Checkpoints />
    </Layout>
  )
}

function Verify() {
  const { t } = useT()
  const [report, setReport] = useState<{ r: Report; at: string }>()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const ref = useFocusOn<HTMLDivElement>(report)
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const f = new FormData(e.currentTarget)
    const file = f.get('checkpoints')
    const text = file instanceof File && file.size > 0 ? await file.text() : undefined
    const trust = String(f.get('trust') ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
    setBusy(true)
    setError(undefined)
    setReport(undefined)
    try {
      const r = await api<Report>('POST', '/api/v1/audit/verify', {
        ...(text !== undefined ? { checkpoints: text } : {}),
        ...(trust.length ? { trust } : {}),
      })
      setReport({ r, at: new Date().toISOString() })
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return (
    <section className="card-panel" aria-labelledby="verify-title">
      <h2 id="verify-title">{t('sys.audit.verify')}</h2>
      <p className="hint">{t('sys.audit.verifyIntro')}</p>
      <form onSubmit={(e) => void submit(e)}>
        <div className="row">
          <label htmlFor="cp-file" className="grow">
            {t('sys.audit.file')}
            <input id="cp-file" name="checkpoints" type="file" accept=".jsonl,.json,.txt,application/json" />
          </label>
          <label htmlFor="cp-trust" className="grow">
            {t('sys.audit.trust')}
            <input id="cp-trust" name="trust" maxLength={2000} aria-describedby="cp-trust-hint" />
            <small className="hint" id="cp-trust-hint">
              {t('sys.audit.trustHint')}
            </small>
          </label>
          <button type="submit" className="primary" disabled={busy}>
            {t('sys.audit.run')}
          </button>
        </div>
      </form>
      {busy && <Loading label={t('sys.audit.running')} />}
      {error !== undefined && <ErrorBox error={error} />}
      {report && (
        <div
          className={`verdict ${report.r.ok ? 'ok' : 'bad'}`}
          role="status"
          tabIndex={-1}
          ref={ref}
          data-testid="verify-result">
          <p className="verdict-title">{t(report.r.ok ? 'sys.audit.ok' : 'sys.audit.bad')}</p>
          <p>
            {t('sys.audit.summary', {
              chains: report.r.chains,
              rows: int(report.r.rows),
              problems: report.r.problems.length + report.r.triggers.length,
              time: chinaTime(report.at),
            })}
          </p>
          {report.r.checkpoints && (
            <p>
              {t('sys.audit.cpSummary', {
                lines: report.r.checkpoints.lines,
                used: report.r.checkpoints.used,
                keys:
                  report.r.checkpoints.keys
                    .map((k) => `${k.kid}${k.pinned ? '' : ` (${t('sys.audit.unpinned')})`}`)
                    .join(', ') || '—',
              })}
            </p>
          )}
          {report.r.problems.length > 0 && (
            <table className="grid">
              <caption className="sys-caption">{t('sys.audit.problems')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('sys.audit.chain')}</th>
                  <th scope="col">{t('sys.audit.seq')}</th>
                  <th scope="col">{t('sys.audit.problem')}</th>
                  <th scope="col">{t('sys.audit.range')}</th>
                </tr>
              </thead>
              <tbody>
                {report.r.problems.map((p, i) => (
                  <tr key={i}>
                    <td>{p.chain}</td>
                    <td>{p.seq}</td>
                    <td>
                      {t(`sys.audit.p.${p.problem}`)} <small>{p.problem}</small>
                    </td>
                    <td>{p.firstDifferenceBetween ? p.firstDifferenceBetween.join('–') : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {report.r.triggers.length > 0 && (
            <ul>
              {report.r.triggers.map((x) => (
                <li key={`${x.table}.${x.trigger}`}>
                  {t('sys.audit.trigger', { table: x.table, trigger: x.trigger, state: x.state })}
                </li>
              ))}
            </ul>
          )}
          {report.r.checkpoints && report.r.checkpoints.problems.length > 0 && (
            <ul>
              {report.r.checkpoints.problems.map((p) => (
                <li key={p.line}>
                  {t('sys.audit.line', { line: p.line })} {p.problem}: {p.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  )
}

function Keys() {
  const { t } = useT()
  const keys = useAsync(() => api<{ items: CheckpointKey[] }>('GET', '/api/v1/audit/checkpoint-keys'), [])
  return (
    <section className="card-panel" aria-labelledby="cpkeys-title">
      <h2 id="cpkeys-title">{t('sys.audit.keys')}</h2>
      <p className="hint">{t('sys.audit.keysIntro')}</p>
      <Async state={keys} empty={(d) => d.items.length === 0} emptyText={t('sys.audit.noKeys')}>
        {(d) => (
          <table className="grid" data-testid="checkpoint-keys">
            <caption className="sys-caption">{t('sys.keys.caption', { n: d.items.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('common.keyId')}</th>
                <th scope="col">{t('common.alg')}</th>
                <th scope="col">{t('common.status')}</th>
                <th scope="col">{t('sys.keys.activatedAt')}</th>
                <th scope="col">{t('sys.keys.retiredAt')}</th>
                <th scope="col">{t('sys.audit.publicKey')}</th>
              </tr>
            </thead>
            <tbody>
              {d.items.map((k) => (
                <tr key={k.kid} className={k.status === 'ACTIVE' ? 'active' : undefined}>
                  <th scope="row">
                    <code>{k.kid}</code>
                  </th>
                  <td>{k.alg}</td>
                  <td>{t(`sys.keys.${k.status}`)}</td>
                  <td>{chinaTime(k.activatedAt)}</td>
                  <td>{chinaTime(k.retiredAt)}</td>
                  <td className="sys-mono">{k.publicKey}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Async>
    </section>
  )
}

function Checkpoints() {
  const { t } = useT()
  const { query } = useQuery()
  const after = query.get('after') ?? ''
  const page = usePolled(
    () =>
      api<{ items: Checkpoint[]; next: string | null }>(
        'GET',
        `/api/v1/audit/checkpoints?${new URLSearchParams({ ...(after ? { after } : {}), limit: String(PAGE) }).toString()}`,
      ),
    [after],
  )
  const here = (cursor: string | null) => {
    const q = new URLSearchParams(query)
    if (cursor) q.set('after', cursor)
    else q.delete('after')
    const s = q.toString()
    return `/admin/audit${s ? `?${s}` : ''}`
  }
  return (
    <section className="card-panel" aria-labelledby="cp-title">
      <div className="page-head">
        <h2 id="cp-title">{t('sys.audit.checkpoints')}</h2>
        <Updated at={page.updatedAt} error={page.error} />
      </div>
      <p className="hint">{t('sys.audit.checkpointsIntro')}</p>
      <Async state={page} empty={(d) => d.items.length === 0} emptyText={t('sys.audit.noCheckpoints')}>
        {(d) => (
          <>
            <table className="grid" data-testid="checkpoints">
              <caption className="sys-caption">{t('sys.audit.cpCaption', { n: d.items.length })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('audit.at')}</th>
                  <th scope="col">{t('sys.audit.chain')}</th>
                  <th scope="col" className="num">
                    {t('sys.audit.seq')}
                  </th>
                  <th scope="col">{t('audit.hash')}</th>
                  <th scope="col">{t('common.keyId')}</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((c) => (
                  <tr key={`${c.chain}.${c.seq}`}>
                    <td>{chinaTime(c.at)}</td>
                    <td>{c.chain}</td>
                    <td className="num">{c.seq}</td>
                    <td className="sys-mono" title={c.hash}>
                      {c.hash.slice(0, 16)}…
                    </td>
                    <td>
                      <code>{c.kid}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <nav className="pager" aria-label={t('sys.pager')}>
              {after && <Link to={here(null)}>{t('sys.audit.first')}</Link>}
              {d.next && <Link to={here(d.next)}>{t('common.next')}</Link>}
            </nav>
          </>
        )}
      </Async>
    </section>
  )
}
