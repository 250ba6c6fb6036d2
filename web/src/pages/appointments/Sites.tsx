import { useState } from 'react'
import type { PutSite } from '../../../../src/modules/appointments/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { FieldError, fieldErrors, invalid } from '../../components/Fields.js'
import { Async, Empty, ErrorBox, Loading, useFocusOn } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { Link, navigate, useQuery } from '../../router.js'
import { CATEGORIES, useCodes, useSites, type Site } from './common.js'

const POLICIES = ['AUTO', 'REVIEW', 'OFF'] as const
type Policy = (typeof POLICIES)[number]
type Category = (typeof CATEGORIES)[number]
const PATH = '/admin/appointment-sites'
const pad = (h: number) => `${String(h).padStart(2, '0')}:00`

/**
 * The sites taking appointments (admins): each site's office hours, default slot capacity, duty phone and the policy
 * per goods category (accepted automatically, reviewed by an officer, not taken). `?code=5345` edits that site,
 * `?new=1` adds one (the code of a customs office; the server refuses others with UNKNOWN_PORT at /params/code).
 */
export function AppointmentSites() {
  const { t, lang } = useT()
  const { get } = useQuery()
  const sites = useSites()
  const offices = useCodes('customs-offices')
  // The last save's notice, for the site it names (choosing another site leaves it behind).
  const [saved, setSaved] = useState<{ code: string; text: string }>()
  const code = get('code')
  const note = saved?.code === code ? saved.text : ''
  const notice = useFocusOn<HTMLParagraphElement>(note)
  const adding = get('new') === '1'
  const nameOf = (s: { code: string; name: string }) => {
    const o = offices.data?.find((x) => x.code === s.code)
    return lang === 'en' ? o?.nameEn || s.name : s.name
  }
  const go = (q: string) => navigate(q ? `${PATH}?${q}` : PATH)
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('appointments.sites.title')}</h1>
        <span className="sub">{t('appointments.sites.sub')}</span>
      </div>
      {note && (
        <p className="notice" role="status" aria-live="polite" tabIndex={-1} ref={notice} data-testid="saved">
          {note}
        </p>
      )}
      <Async state={sites}>
        {(items) => {
          const site = items.find((s) => s.code === code)
          return (
            <>
              {adding ? (
                <SiteForm
                  key="new"
                  offices={offices.data ?? []}
                  focus
                  onCancel={() => go('')}
                  onSaved={(s) => {
                    setSaved({ code: s.code, text: t('appointments.sites.added', { site: `${s.code} ${nameOf(s)}` }) })
                    sites.reload()
                    navigate(`${PATH}?code=${s.code}`, { replace: true })
                  }}
                />
              ) : site ? (
                <SiteForm
                  key={site.code}
                  site={site}
                  label={`${site.code} ${nameOf(site)}`}
                  offices={offices.data ?? []}
                  focus={!note}
                  onCancel={() => go('')}
                  onSaved={(s) => {
                    sites.reload()
                    setSaved({ code: s.code, text: t('appointments.sites.saved', { site: `${s.code} ${nameOf(s)}` }) })
                  }}
                />
              ) : code && sites.loading ? (
                <Loading />
              ) : code ? (
                <div className="state empty" role="alert">
                  {t('appointments.sites.unknown', { code })}{' '}
                  <Link to={`${PATH}?new=1`}>{t('appointments.sites.add')}</Link>
                </div>
              ) : (
                <p className="row">
                  <button type="button" className="primary" onClick={() => go('new=1')}>
                    {t('appointments.sites.add')}
                  </button>
                </p>
              )}
              {items.length === 0 ? (
                <Empty>{t('appointments.board.noSites')}</Empty>
              ) : (
                <SiteTable items={items} current={adding ? '' : code} nameOf={nameOf} />
              )}
            </>
          )
        }}
      </Async>
    </Layout>
  )
}

function SiteTable({ items, current, nameOf }: { items: Site[]; current: string; nameOf: (s: Site) => string }) {
  const { t } = useT()
  return (
    <section className="card-panel" aria-labelledby="sites-h">
      <h2 id="sites-h">{t('appointments.sites.list', { n: items.length })}</h2>
      <div className="appt-scroll">
        <table className="grid appt-sites" data-testid="sites">
          <caption className="sr-only">{t('appointments.sites.list', { n: items.length })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('appointments.sites.site')}</th>
              <th scope="col">{t('appointments.sites.officeHours')}</th>
              <th scope="col" className="num">
                {t('appointments.sites.capacity')}
              </th>
              <th scope="col">{t('appointments.receipt.dutyPhone')}</th>
              {CATEGORIES.map((c) => (
                <th key={c} scope="col">
                  {t(`appointments.category.${c}`)}
                </th>
              ))}
              <th scope="col">
                <span className="sr-only">{t('common.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.code} data-site={s.code} className={s.code === current ? 'active' : undefined}>
                <th scope="row">
                  {s.code} <small>{nameOf(s)}</small>
                </th>
                <td className="lists-nowrap">
                  {pad(s.officeOpen)}–{pad(s.officeClose)}
                </td>
                <td className="num">{s.slotCapacity}</td>
                <td data-testid="duty-phone">{s.dutyPhone}</td>
                {CATEGORIES.map((c) => {
                  const p = s.categories[c] ?? 'OFF'
                  return (
                    <td key={c} data-category={c} data-policy={p}>
                      <span className={`badge appt-policy-${p.toLowerCase()}`}>
                        {t(`appointments.sites.policy.${p}`)}
                      </span>
                    </td>
                  )
                })}
                <td>
                  <Link
                    to={`${PATH}?code=${s.code}`}
                    aria-current={s.code === current ? 'true' : undefined}
                    aria-label={t('appointments.sites.editN', { site: `${s.code} ${nameOf(s)}` })}>
                    {t('appointments.sites.edit')}
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}

const DEFAULTS: PutSite = {
  officeOpen: 9,
  officeClose: 17,
  slotCapacity: 4,
  dutyPhone: '12360',
  categories: { EMERGENCY_RELIEF: 'AUTO', DANGEROUS_GOODS: 'REVIEW', PERISHABLE: 'AUTO', OTHER_URGENT: 'REVIEW' },
}

/** Edits one site (or adds one when `site` is absent: then its code is asked for). One PUT saves it whole. */
function SiteForm({
  site,
  label,
  offices,
  focus,
  onSaved,
  onCancel,
}: {
  site?: Site
  label?: string
  offices: Array<{ code: string; name: string; nameEn?: string }>
  /** Whether the form's heading takes the focus when it opens (not when a save's notice has it). */
  focus: boolean
  onSaved: (s: Site) => void
  onCancel: () => void
}) {
  const { t, lang } = useT()
  const [code, setCode] = useState(site?.code ?? '')
  const [form, setForm] = useState<PutSite>(() =>
    site
      ? {
          officeOpen: site.officeOpen,
          officeClose: site.officeClose,
          slotCapacity: site.slotCapacity,
          dutyPhone: site.dutyPhone,
          categories: Object.fromEntries(
            CATEGORIES.map((c) => [c, (site.categories[c] ?? 'OFF') as Policy]),
          ) as PutSite['categories'],
        }
      : DEFAULTS,
  )
  const [capacity, setCapacity] = useState(String(form.slotCapacity))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const errors = fieldErrors(error, t)
  const heading = useFocusOn<HTMLHeadingElement>(focus)
  const set = (patch: Partial<PutSite>) => setForm((f) => ({ ...f, ...patch }))
  const setPolicy = (c: Category, p: Policy) => setForm((f) => ({ ...f, categories: { ...f.categories, [c]: p } }))
  const codeErr = errors['/params/code']
  const shown = new Set([
    '/params/code',
    'officeOpen',
    'officeClose',
    'slotCapacity',
    'dutyPhone',
    ...CATEGORIES.map((c) => `categories/${c}`),
  ])
  const elsewhere = error !== undefined && !Object.keys(errors).some((k) => shown.has(k))
  const submit = (e: React.FormEvent) => {
    e.preventDefault()
    const body: PutSite = { ...form, slotCapacity: Number(capacity), dutyPhone: form.dutyPhone.trim() }
    setBusy(true)
    setError(undefined)
    api<Site>('PUT', `/api/v1/appointment-sites/${encodeURIComponent(code.trim())}`, body).then(
      (s) => {
        setBusy(false)
        onSaved(s)
      },
      (err: unknown) => {
        setBusy(false)
        setError(err)
        // The first field with a problem takes the focus (the code field for an unknown office).
        requestAnimationFrame(() => document.querySelector<HTMLElement>('form.appt-site [aria-invalid=true]')?.focus())
      },
    )
  }
  const title = site ? t('appointments.sites.editTitle', { site: label ?? site.code }) : t('appointments.sites.add')
  return (
    <form className="card-panel appt-site" onSubmit={submit} aria-labelledby="site-form-h">
      <h2 id="site-form-h" tabIndex={-1} ref={heading}>
        {title}
      </h2>
      {elsewhere && <ErrorBox error={error} />}
      <div className="row">
        {site ? (
          <p className="hint">{t('appointments.sites.codeFixed', { code: site.code })}</p>
        ) : (
          <label>
            {t('appointments.sites.code')}
            <input
              name="code"
              required
              inputMode="numeric"
              pattern="[0-9]{4}"
              maxLength={4}
              size={6}
              list="site-offices"
              value={code}
              onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
              {...invalid('site-code-err', codeErr)}
            />
            <datalist id="site-offices">
              {offices.map((o) => (
                <option key={o.code} value={o.code}>
                  {lang === 'en' ? o.nameEn || o.name : o.name}
                </option>
              ))}
            </datalist>
            <span className="hint">{t('appointments.sites.codeHint')}</span>
            <FieldError id="site-code-err" text={codeErr} />
          </label>
        )}
      </div>
      <fieldset>
        <legend>{t('appointments.sites.officeHours')}</legend>
        <div className="row">
          <label>
            {t('appointments.sites.open')}
            <select
              name="officeOpen"
              value={form.officeOpen}
              onChange={(e) => set({ officeOpen: Number(e.target.value) })}
              {...invalid('site-open-err', errors.officeOpen)}>
              {Array.from({ length: 24 }, (_, h) => (
                <option key={h} value={h}>
                  {pad(h)}
                </option>
              ))}
            </select>
            <FieldError id="site-open-err" text={errors.officeOpen} />
          </label>
          <label>
            {t('appointments.sites.close')}
            <select
              name="officeClose"
              value={form.officeClose}
              onChange={(e) => set({ officeClose: Number(e.target.value) })}
              {...invalid('site-close-err', errors.officeClose)}>
              {Array.from({ length: 24 }, (_, i) => i + 1).map((h) => (
                <option key={h} value={h}>
                  {pad(h)}
                </option>
              ))}
            </select>
            <FieldError id="site-close-err" text={errors.officeClose} />
          </label>
        </div>
        <p className="hint">{t('appointments.sites.officeHint')}</p>
      </fieldset>
      <div className="row">
        <label>
          {t('appointments.sites.capacityLabel')}
          <input
            type="number"
            name="slotCapacity"
            min={0}
            max={1000}
            required
            value={capacity}
            onChange={(e) => setCapacity(e.target.value)}
            {...invalid('site-cap-err', errors.slotCapacity)}
          />
          <FieldError id="site-cap-err" text={errors.slotCapacity} />
        </label>
        <label>
          {t('appointments.receipt.dutyPhone')}
          <input
            type="tel"
            name="dutyPhone"
            required
            maxLength={30}
            value={form.dutyPhone}
            onChange={(e) => set({ dutyPhone: e.target.value })}
            {...invalid('site-phone-err', errors.dutyPhone)}
          />
          <FieldError id="site-phone-err" text={errors.dutyPhone} />
        </label>
      </div>
      <fieldset>
        <legend>{t('appointments.sites.policies')}</legend>
        <div className="row">
          {CATEGORIES.map((c) => (
            <label key={c}>
              {t(`appointments.category.${c}`)}
              <select
                name={`policy-${c}`}
                value={form.categories[c]}
                onChange={(e) => setPolicy(c, e.target.value as Policy)}
                {...invalid(`site-${c}-err`, errors[`categories/${c}`])}>
                {POLICIES.map((p) => (
                  <option key={p} value={p}>
                    {t(`appointments.sites.policy.${p}`)}
                  </option>
                ))}
              </select>
              <FieldError id={`site-${c}-err`} text={errors[`categories/${c}`]} />
            </label>
          ))}
        </div>
        <p className="hint">{t('appointments.sites.policyHint')}</p>
      </fieldset>
      <div className="row actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('common.working') : t('appointments.sites.save')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  )
}
