import { useEffect, useRef, useState, type FormEvent } from 'react'
import type { Enterprise } from '../../../../src/modules/enterprises/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { Async, Empty, ErrorBox, useAsync } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime } from '../../lib/format.js'
import { Link, navigate, useQuery } from '../../router.js'
import { QueryFilters } from '../../components/Filters.js'
import { Pager } from '../../components/Pager.js'
import { FieldError, fieldErrors, invalid } from '../../components/Fields.js'

export const CREDIT_LEVELS = ['ADVANCED_CERTIFIED', 'CERTIFIED', 'REGULAR', 'DISHONEST', 'SERIOUSLY_DISHONEST'] as const
const PAGE = 20

interface CreditChange {
  creditLevel: string
  effectiveFrom: string
  reason: string
  changedBy: string
}

export function CreditBadge({ level }: { level: string }) {
  const { t } = useT()
  return <span className={`badge credit-${level.toLowerCase()}`}>{t(`credit.${level}`)}</span>
}

/** Enterprises: search by name, customs code or USCC, filter by credit level, page; register a new one. */
export function EnterpriseList() {
  const { t } = useT()
  const { query, set, int } = useQuery()
  const q = query.get('q') ?? ''
  const credit = query.get('creditLevel') ?? ''
  const offset = int('offset')
  const list = useAsync(() => {
    const p = new URLSearchParams({ limit: String(PAGE), offset: String(offset) })
    if (q) p.set('q', q)
    if (credit) p.set('creditLevel', credit)
    return api<{ items: Enterprise[]; total: number }>('GET', `/api/v1/enterprises?${p}`)
  }, [q, credit, offset])
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('admin.ent.title')}</h1>
        <QueryFilters names={['q', 'creditLevel']} className="inline-form">
          <label className="inline">
            {t('admin.ent.search')} <input name="q" defaultValue={q} size={24} />
          </label>
          <label className="inline">
            {t('decl.credit')}{' '}
            <select name="creditLevel" defaultValue={credit}>
              <option value="">{t('portal.all')}</option>
              {CREDIT_LEVELS.map((c) => (
                <option key={c} value={c}>
                  {t(`credit.${c}`)}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">{t('common.search')}</button>
        </QueryFilters>
      </div>
      <section className="card-panel" aria-labelledby="ent-list">
        <h2 id="ent-list">{t('admin.ent.list')}</h2>
        <Async state={list}>
          {(d) =>
            d.items.length === 0 ? (
              <Empty>{t('admin.ent.empty')}</Empty>
            ) : (
              <>
                <table className="grid" aria-labelledby="ent-list">
                  <thead>
                    <tr>
                      <th scope="col">{t('admin.ent.name')}</th>
                      <th scope="col">{t('admin.ent.customsCode')}</th>
                      <th scope="col">{t('admin.ent.uscc')}</th>
                      <th scope="col">{t('decl.credit')}</th>
                      <th scope="col">{t('admin.ent.district')}</th>
                      <th scope="col">{t('admin.ent.reachable')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.items.map((e) => (
                      <tr key={e.id} data-customs-code={e.customsCode}>
                        <td>
                          <Link to={`/admin/enterprises/${e.id}`}>{e.name}</Link>
                          {e.nameEn && (
                            <>
                              <br />
                              <small>{e.nameEn}</small>
                            </>
                          )}
                        </td>
                        <td>{e.customsCode}</td>
                        <td>{e.uscc}</td>
                        <td>
                          <CreditBadge level={e.creditLevel} />
                        </td>
                        <td>{e.registeredDistrict}</td>
                        <td>{e.reachable ? t('common.yes') : t('common.no')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <Pager offset={offset} total={d.total} page={PAGE} onChange={(o) => set({ offset: o })} />
              </>
            )
          }
        </Async>
      </section>
      <RegisterEnterprise />
    </Layout>
  )
}

const REGISTER_FIELDS = ['uscc', 'customsCode', 'name', 'nameEn', 'registeredDistrict', 'creditLevel'] as const

/** Customs registration of an enterprise; the API's problems show next to their fields. */
function RegisterEnterprise() {
  const { t } = useT()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const form = useRef<HTMLFormElement>(null)
  const errs = fieldErrors(error, t)
  const onFields =
    Object.keys(errs).length > 0 && Object.keys(errs).every((f) => (REGISTER_FIELDS as readonly string[]).includes(f))
  useEffect(() => {
    // Focus the first field at fault, so keyboard and screen-reader users land on the problem.
    const first = REGISTER_FIELDS.find((f) => errs[f])
    if (first) form.current?.querySelector<HTMLElement>(`[name=${first}]`)?.focus()
  }, [error])
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const f = new FormData(e.currentTarget)
    const s = (k: string) => String(f.get(k) ?? '').trim()
    const body = {
      uscc: s('uscc').toUpperCase(),
      customsCode: s('customsCode').toUpperCase(),
      name: s('name'),
      ...(s('nameEn') ? { nameEn: s('nameEn') } : {}),
      creditLevel: s('creditLevel'),
      registeredDistrict: s('registeredDistrict'),
      reachable: f.get('reachable') === 'on',
    }
    setBusy(true)
    setError(undefined)
    api<Enterprise>('POST', '/api/v1/enterprises', body).then(
      (ent) => navigate(`/admin/enterprises/${ent.id}?registered=1`),
      (err: unknown) => {
        setError(err)
        setBusy(false)
      },
    )
  }
  const field = (name: (typeof REGISTER_FIELDS)[number], label: string, props: Record<string, unknown> = {}) => (
    <label className="grow">
      {label}
      <input name={name} {...invalid(`reg-${name}-err`, errs[name])} {...props} />
      <FieldError id={`reg-${name}-err`} text={errs[name]} />
    </label>
  )
  return (
    <section className="card-panel" aria-labelledby="ent-register">
      <h2 id="ent-register">{t('admin.ent.register')}</h2>
      <form ref={form} onSubmit={submit} aria-labelledby="ent-register" className="admin-form">
        <div className="row">
          {field('uscc', t('admin.ent.uscc'), { required: true, maxLength: 18, size: 20, spellCheck: false })}
          {field('customsCode', t('admin.ent.customsCode'), {
            required: true,
            maxLength: 10,
            size: 12,
            spellCheck: false,
          })}
          {field('registeredDistrict', t('admin.ent.district'), {
            required: true,
            maxLength: 4,
            size: 6,
            inputMode: 'numeric',
          })}
        </div>
        <div className="row">
          {field('name', t('admin.ent.name'), { required: true, maxLength: 200 })}
          {field('nameEn', t('admin.ent.nameEn'), { maxLength: 200 })}
        </div>
        <div className="row">
          <label>
            {t('admin.ent.initialCredit')}
            <select name="creditLevel" defaultValue="REGULAR" {...invalid('reg-creditLevel-err', errs.creditLevel)}>
              {CREDIT_LEVELS.map((c) => (
                <option key={c} value={c}>
                  {t(`credit.${c}`)}
                </option>
              ))}
            </select>
            <FieldError id="reg-creditLevel-err" text={errs.creditLevel} />
          </label>
          <label className="radio">
            <input type="checkbox" name="reachable" defaultChecked /> {t('admin.ent.reachable')}
          </label>
        </div>
        <p className="hint">{t('admin.ent.registerHint')}</p>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('common.working') : t('admin.ent.registerSubmit')}
        </button>
        {error !== undefined && !onFields && <ErrorBox error={error} />}
      </form>
    </section>
  )
}

/** One enterprise: its registration, credit level (changed with a reason) and credit history; links to its cards. */
export function EnterpriseView({ id }: { id: string }) {
  const { t } = useT()
  const { query } = useQuery()
  const ent = useAsync(() => api<Enterprise>('GET', `/api/v1/enterprises/${encodeURIComponent(id)}`), [id])
  const history = useAsync(
    () => api<CreditChange[]>('GET', `/api/v1/enterprises/${encodeURIComponent(id)}/credit-history`),
    [id],
  )
  const h1 = useRef<HTMLHeadingElement>(null)
  useEffect(() => {
    if (ent.data) h1.current?.focus()
  }, [ent.data?.id])
  return (
    <Layout>
      <p>
        <Link to="/admin/enterprises">← {t('admin.ent.title')}</Link>
      </p>
      <Async state={ent}>
        {(e) => (
          <>
            <div className="page-head">
              <h1 ref={h1} tabIndex={-1}>
                {e.name}
              </h1>
              <CreditBadge level={e.creditLevel} />
              <Link className="button" to={`/admin/cards?enterpriseId=${e.id}`}>
                {t('admin.ent.cards')}
              </Link>
              <Link className="button" to={`/admin/cards/new?enterpriseId=${e.id}`}>
                {t('admin.cards.issue')}
              </Link>
            </div>
            {query.get('registered') && (
              <p className="notice" role="status">
                {t('admin.ent.registered', { name: e.name })}
              </p>
            )}
            <section className="card-panel" aria-labelledby="ent-facts">
              <h2 id="ent-facts">{t('admin.ent.details')}</h2>
              <dl className="facts">
                <dt>{t('admin.ent.uscc')}</dt>
                <dd>{e.uscc}</dd>
                <dt>{t('admin.ent.customsCode')}</dt>
                <dd>{e.customsCode}</dd>
                <dt>{t('admin.ent.nameEn')}</dt>
                <dd>{e.nameEn ?? '—'}</dd>
                <dt>{t('admin.ent.district')}</dt>
                <dd>{e.registeredDistrict}</dd>
                <dt>{t('admin.ent.reachable')}</dt>
                <dd>{e.reachable ? t('common.yes') : t('common.no')}</dd>
                <dt>{t('decl.credit')}</dt>
                <dd data-testid="credit-level">{t(`credit.${e.creditLevel}`)}</dd>
                <dt>{t('admin.ent.createdAt')}</dt>
                <dd>{chinaTime(e.createdAt)}</dd>
              </dl>
            </section>
            <ChangeCredit
              enterprise={e}
              onChanged={() => {
                ent.reload()
                history.reload()
              }}
            />
          </>
        )}
      </Async>
      <section className="card-panel" aria-labelledby="ent-history">
        <h2 id="ent-history">{t('admin.ent.history')}</h2>
        <Async state={history} empty={(d) => d.length === 0}>
          {(rows) => (
            <table className="grid" data-testid="credit-history" aria-labelledby="ent-history">
              <thead>
                <tr>
                  <th scope="col">{t('admin.ent.effectiveFrom')}</th>
                  <th scope="col">{t('decl.credit')}</th>
                  <th scope="col">{t('admin.ent.reason')}</th>
                  <th scope="col">{t('admin.ent.changedBy')}</th>
                </tr>
              </thead>
              <tbody>
                {[...rows].reverse().map((r, i) => (
                  <tr key={`${r.effectiveFrom}-${i}`}>
                    <td>{chinaTime(r.effectiveFrom)}</td>
                    <td>
                      <CreditBadge level={r.creditLevel} />
                    </td>
                    <td className="reason">{r.reason}</td>
                    <td>{r.changedBy}</td>
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

function ChangeCredit({ enterprise, onChanged }: { enterprise: Enterprise; onChanged: () => void }) {
  const { t } = useT()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const [done, setDone] = useState('')
  const errs = fieldErrors(error, t)
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const form = e.currentTarget
    const f = new FormData(form)
    const creditLevel = String(f.get('creditLevel'))
    setBusy(true)
    setError(undefined)
    setDone('')
    api<Enterprise>('POST', `/api/v1/enterprises/${enterprise.id}/credit`, {
      creditLevel,
      reason: String(f.get('reason')).trim(),
    }).then(
      () => {
        setBusy(false)
        setDone(creditLevel)
        form.reset()
        onChanged()
      },
      (err: unknown) => {
        setBusy(false)
        setError(err)
      },
    )
  }
  return (
    <section className="card-panel" aria-labelledby="ent-credit">
      <h2 id="ent-credit">{t('admin.ent.changeCredit')}</h2>
      <form onSubmit={submit} aria-labelledby="ent-credit" className="admin-form">
        <div className="row">
          <label>
            {t('admin.ent.newCredit')}
            <select name="creditLevel" required defaultValue="" {...invalid('credit-level-err', errs.creditLevel)}>
              <option value="" disabled>
                {t('admin.choose')}
              </option>
              {CREDIT_LEVELS.filter((c) => c !== enterprise.creditLevel).map((c) => (
                <option key={c} value={c}>
                  {t(`credit.${c}`)}
                </option>
              ))}
            </select>
            <FieldError id="credit-level-err" text={errs.creditLevel} />
          </label>
          <label className="grow">
            {t('admin.ent.reason')}
            <input name="reason" required maxLength={500} {...invalid('credit-reason-err', errs.reason)} />
            <FieldError id="credit-reason-err" text={errs.reason} />
          </label>
        </div>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('common.working') : t('admin.ent.changeSubmit')}
        </button>
        {done && (
          <p className="notice" role="status">
            {t('admin.ent.creditChanged', { level: t(`credit.${done}`) })}
          </p>
        )}
        {error !== undefined && !errs.creditLevel && !errs.reason && <ErrorBox error={error} />}
      </form>
    </section>
  )
}
