import { useState, type FormEvent } from 'react'
import type { Certificate, Verification } from '../../../src/modules/certificates/schema.js'
import type { ArchiveSummary } from '../../../src/modules/archives/schema.js'
import { api, ApiError, type ApiErrorBody } from '../api.js'
import { Layout } from '../components/Layout.js'
import { Async, Empty, ErrorBox, Loading, useAction, useAsync } from '../components/States.js'
import { useT } from '../i18n.js'
import { chinaTime, tokenOf } from '../lib/format.js'
import { getSession } from '../session.js'
import { Pager } from '../components/Pager.js'

/** Fetches a file the API serves behind the bearer token (PDF, CSV) and opens or downloads it. */
export async function fetchFile(method: 'GET' | 'POST', path: string, name: string, open: boolean): Promise<void> {
  const s = getSession()
  const res = await fetch(path, { method, headers: s ? { authorization: `Bearer ${s.token}` } : {} })
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as Partial<ApiErrorBody>
    throw new ApiError(res.status, {
      statusCode: res.status,
      code: body.code ?? `HTTP_${res.status}`,
      message: body.message ?? res.statusText,
      pointer: body.pointer ?? '',
      errors: body.errors ?? [],
    })
  }
  const url = URL.createObjectURL(await res.blob())
  const a = document.createElement('a')
  a.href = url
  if (open) a.target = '_blank'
  else a.download = name
  a.rel = 'noopener'
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

const PAGE = 25

/** The enterprise's inspection and quarantine certificates, with their PDF and verification link. */
export function Certificates() {
  const { t } = useT()
  const [offset, setOffset] = useState(0)
  const [error, setError] = useState<unknown>()
  const list = useAsync(
    () => api<{ items: Certificate[]; total: number }>('GET', `/api/v1/certificates?limit=${PAGE}&offset=${offset}`),
    [offset],
  )
  const pdf = (c: Certificate) => {
    setError(undefined)
    fetchFile('GET', `/api/v1/certificates/${c.number}/pdf`, `${c.number}.pdf`, true).catch(setError)
  }
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('cert.title')}</h1>
      </div>
      {error !== undefined && <ErrorBox error={error} />}
      <Async state={list}>
        {(d) =>
          d.items.length === 0 ? (
            <Empty>{t('cert.empty')}</Empty>
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th scope="col">{t('cert.number')}</th>
                    <th scope="col">{t('queue.entry')}</th>
                    <th scope="col">{t('cert.goods')}</th>
                    <th scope="col">{t('cert.issuedAt')}</th>
                    <th scope="col">{t('cert.validUntil')}</th>
                    <th scope="col">{t('cert.status')}</th>
                    <th scope="col" />
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((c) => (
                    <tr key={c.id} data-certificate={c.number}>
                      <td>
                        <strong>{c.number}</strong>
                      </td>
                      <td>{c.entryId}</td>
                      <td>{c.content.goods.map((g) => `${g.hsCode} ${g.description}`).join('; ')}</td>
                      <td>
                        {chinaTime(c.issuedAt)}
                        <br />
                        <small>{c.issuedBy}</small>
                      </td>
                      <td>{chinaTime(c.validUntil).slice(0, 10)}</td>
                      <td>
                        {c.revokedAt ? (
                          <span className="badge state-rejected">
                            {t('cert.revoked')} {c.revocationReason}
                          </span>
                        ) : (
                          <span className="badge state-released">{t('cert.valid')}</span>
                        )}
                      </td>
                      <td className="actions">
                        <button type="button" onClick={() => pdf(c)}>
                          PDF
                        </button>{' '}
                        <a href={c.verifyUrl} target="_blank" rel="noopener" className="verify-link">
                          {t('cert.verifyLink')}
                        </a>
                      </td>
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

interface ArchiveQuery {
  clearedFrom: string
  clearedTo: string
  entryId: string
  tradeMode: string
  ieFlag: string
}
const toQuery = (q: ArchiveQuery) => new URLSearchParams(Object.entries(q).filter(([, v]) => v !== '')).toString()

/** Self-service archive search: archived declarations within retention, printed with a verifiable QR code or exported. */
export function Archives() {
  const { t } = useT()
  const [q, setQ] = useState<ArchiveQuery>({ clearedFrom: '', clearedTo: '', entryId: '', tradeMode: '', ieFlag: '' })
  const [applied, setApplied] = useState('')
  const [offset, setOffset] = useState(0)
  const { busy, error, run } = useAction()
  const list = useAsync(
    () =>
      api<{ items: ArchiveSummary[]; total: number }>(
        'GET',
        `/api/v1/archives?limit=${PAGE}&offset=${offset}${applied ? `&${applied}` : ''}`,
      ),
    [applied, offset],
  )
  const set = (k: keyof ArchiveQuery) => (e: { target: { value: string } }) => setQ({ ...q, [k]: e.target.value })
  const search = (e: FormEvent) => {
    e.preventDefault()
    setOffset(0)
    setApplied(toQuery(q))
  }
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('arch.title')}</h1>
      </div>
      <form className="card-panel" onSubmit={search} role="search" aria-label={t('arch.title')}>
        <div className="row">
          <label>
            {t('arch.clearedFrom')}
            <input type="date" value={q.clearedFrom} onChange={set('clearedFrom')} />
          </label>
          <label>
            {t('arch.clearedTo')}
            <input type="date" value={q.clearedTo} onChange={set('clearedTo')} />
          </label>
          <label>
            {t('queue.entry')}
            <input value={q.entryId} onChange={set('entryId')} pattern="[0-9]{18}" inputMode="numeric" name="entryId" />
          </label>
          <label>
            {t('decl.tradeMode')}
            <input value={q.tradeMode} onChange={set('tradeMode')} pattern="[0-9]{4}" size={5} />
          </label>
          <label>
            {t('decl.ieFlag')}
            <select value={q.ieFlag} onChange={set('ieFlag')}>
              <option value="">{t('portal.all')}</option>
              <option value="I">{t('decl.I')}</option>
              <option value="E">{t('decl.E')}</option>
            </select>
          </label>
          <button type="submit" className="primary">
            {t('common.search')}
          </button>
          <button
            type="button"
            onClick={() =>
              run('export', () => fetchFile('GET', `/api/v1/archives/export?${toQuery(q)}`, 'archives.csv', false))
            }
            disabled={!!busy}>
            {t('common.export')}
          </button>
        </div>
        <p className="hint">{t('arch.notice')}</p>
      </form>
      {busy && <Loading label={t('common.working')} />}
      {error !== undefined && <ErrorBox error={error} />}
      <Async state={list}>
        {(d) =>
          d.items.length === 0 ? (
            <Empty>{t('arch.empty')}</Empty>
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th scope="col">{t('queue.entry')}</th>
                    <th scope="col">{t('decl.tradeMode')}</th>
                    <th scope="col">{t('decl.port')}</th>
                    <th scope="col" className="num">
                      {t('item.total')}
                    </th>
                    <th scope="col">{t('arch.declaredAt')}</th>
                    <th scope="col">{t('arch.clearedAt')}</th>
                    <th scope="col">{t('arch.retainUntil')}</th>
                    <th scope="col" />
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((a) => (
                    <tr key={a.id} data-entry={a.entryId}>
                      <td>
                        {a.entryId}
                        <br />
                        <small>{a.traderName}</small>
                      </td>
                      <td>{a.tradeMode}</td>
                      <td>{a.iePort}</td>
                      <td className="num">
                        {a.totalValue} {a.currency}
                      </td>
                      <td>{chinaTime(a.declaredAt).slice(0, 10)}</td>
                      <td>{chinaTime(a.clearedAt).slice(0, 10)}</td>
                      <td>
                        {a.retainUntil} <small>({t('arch.years', { n: a.retentionYears })})</small>
                      </td>
                      <td>
                        <button
                          type="button"
                          disabled={!!busy}
                          onClick={() =>
                            run(a.entryId, () =>
                              fetchFile('POST', `/api/v1/archives/${a.entryId}/print`, `${a.entryId}.pdf`, true),
                            )
                          }>
                          {t('common.print')}
                        </button>
                      </td>
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

const VERDICT_TONE: Record<string, string> = {
  AUTHENTIC: 'ok',
  TAMPERED: 'bad',
  REVOKED: 'bad',
  EXPIRED: 'warn',
  UNKNOWN_ISSUER: 'bad',
  INVALID: 'bad',
}

/** Public verification, readable on a phone: paste or scan a QR link, see the verdict and the printed fields. */
export function Verify() {
  const { t, lang } = useT()
  const [input, setInput] = useState(() => new URLSearchParams(location.search).get('t') ?? '')
  const [state, setState] = useState<{ loading?: boolean; v?: Verification; error?: unknown }>({})
  const check = async (e?: FormEvent) => {
    e?.preventDefault()
    setState({ loading: true })
    try {
      setState({ v: await api<Verification>('POST', '/api/v1/certificates/verify', { token: tokenOf(input) }) })
    } catch (err) {
      setState({ error: err })
    }
  }
  const v = state.v
  return (
    <Layout>
      <section className="verify">
        <h1>{t('verify.title')}</h1>
        <p className="hint">{t('verify.intro')}</p>
        <form onSubmit={check} className="row">
          <label className="grow">
            {t('verify.input')}
            <input
              name="token"
              value={input}
              onChange={(e) => setInput(e.target.value)}
              required
              autoComplete="off"
              spellCheck={false}
            />
          </label>
          <button type="submit" className="primary">
            {t('verify.submit')}
          </button>
        </form>
        {state.loading && <Loading />}
        {state.error !== undefined && <ErrorBox error={state.error} />}
        {v && (
          <div className={`verdict ${VERDICT_TONE[v.verdict] ?? 'bad'}`} role="status" data-verdict={v.verdict}>
            <p className="verdict-title">{t(`verify.${v.verdict}`)}</p>
            <p className="hint">
              {v.reasons.join(', ')} · {t('verify.checkedAt', { time: chinaTime(v.checkedAt) })}
              {v.number && <> · {v.number}</>}
            </p>
            {v.revokedAt && (
              <p>
                {t('cert.revoked')} {chinaTime(v.revokedAt)} {v.revocationReason}
                {v.replacedBy && ` → ${v.replacedBy}`}
              </p>
            )}
            {v.fields.length > 0 && (
              <dl className="facts">
                {v.fields.map((f, i) => (
                  <div key={i}>
                    <dt>{lang === 'zh' ? f.labelZh : f.labelEn}</dt>
                    <dd>{f.value}</dd>
                  </div>
                ))}
              </dl>
            )}
          </div>
        )}
      </section>
    </Layout>
  )
}
