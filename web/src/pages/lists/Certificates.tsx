import { useEffect, useRef, useState } from 'react'
import type { Certificate } from '../../../../src/modules/certificates/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { ConfirmDialog } from '../../components/Dialog.js'
import { Async, Empty, ErrorBox, Loading, useAsync } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaDayEnd, chinaDayStart, chinaTime } from '../../lib/format.js'
import { Link, navigate, useQuery } from '../../router.js'
import { fetchFile } from '../Documents.js'
import { DateRange, QueryFilters } from '../../components/Filters.js'
import { Pager } from '../../components/Pager.js'

const PAGE = 25
const NUMBER = '[0-9]{8}Q[0-9]{9}'
const REVOKE_REASONS = ['WITHDRAWN', 'ISSUED_IN_ERROR', 'GOODS_NONCOMPLIANT'] as const

interface AuditEntry {
  at: string
  actor: string
  action: string
  data: unknown
}

function StatusBadge({ c }: { c: Certificate }) {
  const { t } = useT()
  return c.revokedAt ? (
    <span className="badge state-rejected">
      {t('cert.revoked')} · {c.revocationReason ? t(`revoke.${c.revocationReason}`) : '—'}
    </span>
  ) : (
    <span className="badge state-released">{t('cert.valid')}</span>
  )
}

/** Every certificate (officers), filtered by status and issue date, paged; the filters live in the URL. */
export function CertificateList() {
  const { t } = useT()
  const { get, set } = useQuery()
  const status = get('status')
  const from = get('from')
  const to = get('to')
  const offset = Number(get('offset')) || 0
  const list = useAsync(() => {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) })
    if (status) q.set('revoked', status === 'revoked' ? 'true' : 'false')
    if (from) q.set('from', chinaDayStart(from))
    if (to) q.set('to', chinaDayEnd(to))
    return api<{ items: Certificate[]; total: number }>('GET', `/api/v1/certificates?${q}`)
  }, [status, from, to, offset])
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('lists.cert.title')}</h1>
        <form
          className="inline-form"
          role="search"
          aria-label={t('lists.cert.open')}
          onSubmit={(e) => {
            e.preventDefault()
            const v = new FormData(e.currentTarget).get('number')
            if (v) navigate(`/officer/certificates/${String(v).trim()}`)
          }}>
          <label className="inline">
            {t('lists.cert.open')} <input name="number" required pattern={NUMBER} size={20} />
          </label>
          <button type="submit">{t('queue.go')}</button>
        </form>
      </div>
      <QueryFilters names={['status', 'from', 'to']} label={t('lists.filters')}>
        <label>
          {t('cert.status')}
          <select name="status" defaultValue={status}>
            <option value="">{t('portal.all')}</option>
            <option value="valid">{t('cert.valid')}</option>
            <option value="revoked">{t('cert.revoked')}</option>
          </select>
        </label>
        <DateRange fromLabel={t('lists.cert.issuedFrom')} toLabel={t('arch.clearedTo')} />
        <button type="submit" className="primary">
          {t('common.search')}
        </button>
      </QueryFilters>
      <Async state={list}>
        {(d) =>
          d.items.length === 0 ? (
            <Empty>{t('cert.empty')}</Empty>
          ) : (
            <>
              <table className="grid">
                <caption className="sr-only">{t('lists.cert.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('cert.number')}</th>
                    <th scope="col">{t('queue.entry')}</th>
                    <th scope="col">{t('lists.cert.consignee')}</th>
                    <th scope="col">{t('cert.goods')}</th>
                    <th scope="col">{t('cert.issuedAt')}</th>
                    <th scope="col">{t('cert.validUntil')}</th>
                    <th scope="col">{t('cert.status')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((c) => (
                    <tr key={c.id} data-certificate={c.number}>
                      <td>
                        <Link to={`/officer/certificates/${c.number}`}>{c.number}</Link>
                      </td>
                      <td>{c.entryId}</td>
                      <td>
                        {c.content.consignee.name}
                        <br />
                        <small>{c.content.consignee.customsCode}</small>
                      </td>
                      <td>{c.content.goods.map((g) => `${g.hsCode} ${g.description}`).join('; ')}</td>
                      <td>
                        {chinaTime(c.issuedAt)}
                        <br />
                        <small>{c.issuedBy}</small>
                      </td>
                      <td>{chinaTime(c.validUntil).slice(0, 10)}</td>
                      <td>
                        <StatusBadge c={c} />
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
    </Layout>
  )
}

/** One certificate: its content, PDF and verification link, revoke and re-issue, and its audit trail. */
export function CertificateDetail({ number }: { number: string }) {
  const { t } = useT()
  const view = useAsync(
    () =>
      Promise.all([
        api<Certificate>('GET', `/api/v1/certificates/${encodeURIComponent(number)}`),
        api<{ items: AuditEntry[] }>('GET', `/api/v1/certificates/${encodeURIComponent(number)}/audit`),
      ]),
    [number],
  )
  const [dialog, setDialog] = useState<'' | 'revoke' | 'reissue'>('')
  const [reason, setReason] = useState<(typeof REVOKE_REASONS)[number]>('WITHDRAWN')
  const [note, setNote] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const [done, setDone] = useState('')
  const status = useRef<HTMLParagraphElement>(null)
  useEffect(() => {
    if (done) status.current?.focus()
  }, [done])
  const pdf = () => {
    setError(undefined)
    fetchFile('GET', `/api/v1/certificates/${number}/pdf`, `${number}.pdf`, true).catch(setError)
  }
  const act = async () => {
    setBusy(true)
    setError(undefined)
    try {
      const body = note.trim() ? { note: note.trim() } : {}
      if (dialog === 'revoke') {
        await api('POST', `/api/v1/certificates/${number}/revoke`, { reason, ...body })
        setDone(t('lists.cert.revokedDone', { number }))
        view.reload()
      } else {
        const fresh = await api<Certificate>('POST', `/api/v1/certificates/${number}/reissue`, body)
        setDone(t('lists.cert.reissuedDone', { number: fresh.number, old: number }))
        navigate(`/officer/certificates/${fresh.number}`)
      }
      setDialog('')
      setNote('')
    } catch (e) {
      setError(e)
      setDialog('')
    } finally {
      setBusy(false)
    }
  }
  return (
    <Layout>
      <p>
        <Link to="/officer/certificates">← {t('lists.cert.title')}</Link>
      </p>
      {done && (
        <p className="notice" role="status" tabIndex={-1} ref={status}>
          {done}
        </p>
      )}
      {error !== undefined && <ErrorBox error={error} />}
      <Async state={view}>
        {([c, audit]) => (
          <>
            <div className="page-head">
              <h1>
                {t('cert.number')} {c.number}
              </h1>
              <StatusBadge c={c} />
            </div>
            <div className="card-panel">
              <div className="row lists-actions">
                <button type="button" onClick={pdf}>
                  PDF
                </button>
                <a href={c.verifyUrl} target="_blank" rel="noopener" className="button verify-link">
                  {t('cert.verifyLink')}
                </a>
                {!c.revokedAt && (
                  <>
                    <button type="button" onClick={() => setDialog('reissue')}>
                      {t('lists.cert.reissue')}
                    </button>
                    <button type="button" className="danger" onClick={() => setDialog('revoke')}>
                      {t('cert.revoke')}
                    </button>
                  </>
                )}
              </div>
              <dl className="facts">
                <div>
                  <dt>{t('lists.cert.type')}</dt>
                  <dd>{c.type}</dd>
                </div>
                <div>
                  <dt>{t('queue.entry')}</dt>
                  <dd>
                    <Link to={`/officer/declarations/${c.declarationId}`}>{c.entryId}</Link>
                  </dd>
                </div>
                <div>
                  <dt>{t('lists.cert.consignee')}</dt>
                  <dd>
                    {c.content.consignee.name} ({c.content.consignee.customsCode})
                  </dd>
                </div>
                <div>
                  <dt>{t('lists.cert.office')}</dt>
                  <dd>{c.content.issuingOffice.name}</dd>
                </div>
                <div>
                  <dt>{t('cert.issuedAt')}</dt>
                  <dd>
                    {chinaTime(c.issuedAt)} · {c.issuedBy}
                  </dd>
                </div>
                <div>
                  <dt>{t('cert.validUntil')}</dt>
                  <dd>
                    {chinaTime(c.validFrom).slice(0, 10)} – {chinaTime(c.validUntil).slice(0, 10)}
                  </dd>
                </div>
                <div>
                  <dt>{t('lists.cert.inspection')}</dt>
                  <dd>{c.content.inspection.result}</dd>
                </div>
                {c.replaces && (
                  <div>
                    <dt>{t('lists.cert.replaces')}</dt>
                    <dd>
                      <Link to={`/officer/certificates/${c.replaces}`}>{c.replaces}</Link>
                    </dd>
                  </div>
                )}
                {c.replacedBy && (
                  <div>
                    <dt>{t('lists.cert.replacedBy')}</dt>
                    <dd>
                      <Link to={`/officer/certificates/${c.replacedBy}`}>{c.replacedBy}</Link>
                    </dd>
                  </div>
                )}
                {c.revokedAt && (
                  <div>
                    <dt>{t('cert.revoked')}</dt>
                    <dd>
                      {chinaTime(c.revokedAt)} · {c.revocationReason ? t(`revoke.${c.revocationReason}`) : '—'} ·{' '}
                      {c.revokedBy}
                      {c.revocationNote && <> · {c.revocationNote}</>}
                    </dd>
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
                  <th scope="col">{t('lists.cert.origin')}</th>
                  <th scope="col">{t('lists.cert.category')}</th>
                </tr>
              </thead>
              <tbody>
                {c.content.goods.map((g) => (
                  <tr key={g.gNo}>
                    <td>{g.gNo}</td>
                    <td>{g.hsCode}</td>
                    <td>{g.description}</td>
                    <td className="num">
                      {g.quantity} {g.unit}
                    </td>
                    <td>{g.originCountry}</td>
                    <td>{g.category}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2 className="lists-gap">{t('decl.audit')}</h2>
            {audit.items.length === 0 ? (
              <Empty />
            ) : (
              <table className="grid audit">
                <caption className="sr-only">{t('decl.audit')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('audit.at')}</th>
                    <th scope="col">{t('audit.actor')}</th>
                    <th scope="col">{t('audit.action')}</th>
                    <th scope="col">{t('lists.details')}</th>
                  </tr>
                </thead>
                <tbody>
                  {audit.items.map((a, i) => (
                    <tr key={i} data-action={a.action}>
                      <td>{chinaTime(a.at)}</td>
                      <td>{a.actor}</td>
                      <td>
                        <code>{a.action}</code>
                      </td>
                      <td>
                        <small>{JSON.stringify(a.data)}</small>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {dialog !== '' && (
              <ConfirmDialog
                busy={busy}
                title={
                  dialog === 'revoke' ? t('cert.confirmRevoke', { number }) : t('lists.cert.confirmReissue', { number })
                }
                confirmLabel={dialog === 'revoke' ? t('cert.revoke') : t('lists.cert.reissue')}
                onConfirm={() => void act()}
                onClose={() => setDialog('')}>
                {dialog === 'revoke' && (
                  <label>
                    {t('cert.revokeReason')}
                    <select name="reason" value={reason} onChange={(e) => setReason(e.target.value as typeof reason)}>
                      {REVOKE_REASONS.map((r) => (
                        <option key={r} value={r}>
                          {t(`revoke.${r}`)}
                        </option>
                      ))}
                    </select>
                  </label>
                )}
                {dialog === 'reissue' && <p className="hint">{t('lists.cert.reissueHint')}</p>}
                <label>
                  {t('common.note')}
                  <textarea
                    name="note"
                    value={note}
                    maxLength={500}
                    rows={2}
                    onChange={(e) => setNote(e.target.value)}
                  />
                </label>
                {busy && <Loading label={t('common.working')} />}
              </ConfirmDialog>
            )}
          </>
        )}
      </Async>
    </Layout>
  )
}
