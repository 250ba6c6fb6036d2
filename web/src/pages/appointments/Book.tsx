import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react'
import type { CreateAppointment } from '../../../../src/modules/appointments/schema.js'
import type { Enterprise } from '../../../../src/modules/enterprises/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { CellInput } from '../../components/Rows.js'
import { FieldError, fieldErrors, invalid } from '../../components/Fields.js'
import { ErrorBox, Loading, usePolled } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { navigate } from '../../router.js'
import { useSession } from '../../session.js'
import {
  CATEGORIES,
  MAX_FLEX_HOURS,
  REASON_MAX,
  SERVICES,
  addDays,
  chinaDate,
  loadSlotDay,
  siteLabel,
  useCodes,
  useSites,
  type Appointment,
} from './common.js'
import { SlotPicker } from './SlotPicker.js'

/** A reference per form: resending the same form (after a lost answer) returns the booking made the first time. */
const newClientRef = () => `APPT-${Date.now().toString(36).toUpperCase()}-${Math.random().toString(36).slice(2, 8)}`
const splitRefs = (s: string) =>
  s
    .split(/[\s,，;；]+/)
    .map((x) => x.trim())
    .filter(Boolean)

interface Draft {
  contactName: string
  contactMobile: string
  service: (typeof SERVICES)[number]
  category: (typeof CATEGORIES)[number]
  site: string
  iePort: string
  ieFlag: 'I' | 'E'
  transportMode: string
  date: string
  hour: number | undefined
  flexHours: number
  reason: string
  declarations: string
  manifests: string
}

/** The portal's booking form (预约通关申请): a slot outside office hours at a declaring site. */
export function BookAppointment() {
  const { t, lang } = useT()
  const s = useSession()
  const sites = useSites()
  const offices = useCodes('customs-offices')
  const modes = useCodes('transport-modes')
  const [ent, setEnt] = useState<Enterprise>()
  const [entError, setEntError] = useState<unknown>()
  const [clientRef] = useState(newClientRef)
  const [d, setD] = useState<Draft>({
    contactName: '',
    contactMobile: '',
    service: 'CLEARANCE',
    category: 'PERISHABLE',
    site: '',
    iePort: '',
    ieFlag: 'I',
    transportMode: '',
    date: addDays(chinaDate(), 2),
    hour: undefined,
    flexHours: 0,
    reason: '',
    declarations: '',
    manifests: '',
  })
  const [goods, setGoods] = useState([{ name: '', hsCode: '' }])
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const errors = fieldErrors(error, t)
  const errorBox = useRef<HTMLDivElement>(null)

  useEffect(() => {
    if (s?.enterpriseId) api<Enterprise>('GET', `/api/v1/enterprises/${s.enterpriseId}`).then(setEnt, setEntError)
  }, [s?.enterpriseId])
  // Defaults once the lists are there: the first site, and its code as entry/exit port when the table has it.
  useEffect(() => {
    const first = sites.data?.[0]
    if (first && !d.site) setD((x) => ({ ...x, site: first.code, iePort: x.iePort || first.code }))
  }, [sites.data])
  useEffect(() => {
    if (modes.data?.length && !d.transportMode)
      setD((x) => ({ ...x, transportMode: modes.data!.find((m) => m.code === '4')?.code ?? modes.data![0]!.code }))
  }, [modes.data])

  const slots = usePolled(
    () => (d.site && d.date ? loadSlotDay(d.site, d.date) : Promise.resolve(undefined)),
    [d.site, d.date],
    15_000,
  )
  const site = sites.data?.find((x) => x.code === d.site)
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((x) => ({ ...x, [k]: v }))
  const refErrors = (prefix: string) =>
    Object.entries(errors)
      .filter(([k]) => k === prefix || k.startsWith(`${prefix}/`))
      .map(([, v]) => v)
      .join('; ') || undefined

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!ent) return
    setBusy(true)
    setError(undefined)
    const declarations = splitRefs(d.declarations)
    const manifests = splitRefs(d.manifests)
    const body: CreateAppointment = {
      clientRef,
      enterpriseCode: ent.customsCode,
      contactName: d.contactName.trim(),
      contactMobile: d.contactMobile.trim(),
      service: d.service,
      category: d.category,
      site: d.site,
      iePort: d.iePort,
      ieFlag: d.ieFlag,
      goods: goods.map((g) => ({ name: g.name.trim(), hsCode: g.hsCode.trim() })),
      transportMode: d.transportMode,
      date: d.date,
      // An hour not chosen yet is sent as such: the server's answer points at the field.
      hour: d.hour ?? (-1 as number),
      flexHours: d.flexHours,
      reason: d.reason.trim(),
      ...(declarations.length ? { declarations } : {}),
      ...(manifests.length ? { manifests } : {}),
    }
    try {
      const a = await api<Appointment>('POST', '/api/v1/appointments', body)
      navigate(`/portal/appointments/${a.id}?new=1`)
    } catch (err) {
      setError(err)
      setBusy(false)
      requestAnimationFrame(() => errorBox.current?.focus())
    }
  }

  const officeName = (o: { name: string; nameEn?: string | undefined }) =>
    (lang === 'en' ? o.nameEn || o.name : o.name || o.nameEn) ?? ''
  const hasOffice = useMemo(() => new Set(offices.data?.map((o) => o.code)), [offices.data])
  const aeo = ent?.creditLevel === 'ADVANCED_CERTIFIED'
  const discredited = ent?.creditLevel === 'DISHONEST' || ent?.creditLevel === 'SERIOUSLY_DISHONEST'

  const text = (
    k: 'contactName' | 'contactMobile',
    label: string,
    extra: Record<string, string | number | boolean> = {},
  ) => (
    <label>
      {label}
      <input
        name={k}
        value={d[k]}
        onChange={(e) => set(k, e.target.value)}
        {...invalid(`${k}-err`, errors[k])}
        {...extra}
      />
      <FieldError id={`${k}-err`} text={errors[k]} />
    </label>
  )

  return (
    <Layout>
      <div className="page-head">
        <h1>{t('appointments.book.title')}</h1>
        <p className="sub">{t('appointments.book.sub')}</p>
      </div>
      {entError !== undefined && <ErrorBox error={entError} />}
      {(sites.error ?? offices.error ?? modes.error) !== undefined && (
        <ErrorBox error={sites.error ?? offices.error ?? modes.error} />
      )}
      {!ent && entError === undefined && <Loading />}
      {discredited && (
        <p className="notice warn" role="status">
          {t('appointments.book.discredited')}
        </p>
      )}
      <form className="card-panel appt-form" onSubmit={submit} aria-label={t('appointments.book.title')} noValidate>
        <div ref={errorBox} tabIndex={-1}>
          {error !== undefined && <ErrorBox error={error} />}
        </div>
        <fieldset>
          <legend>{t('appointments.book.who')}</legend>
          <div className="grid-form">
            <label>
              {t('appointments.field.enterprise')}
              <input
                name="enterpriseCode"
                value={ent ? ent.customsCode : ''}
                readOnly
                {...invalid('enterpriseCode-err', errors.enterpriseCode)}
              />
              <span className="hint">{ent?.name}</span>
              <FieldError id="enterpriseCode-err" text={errors.enterpriseCode} />
            </label>
            {text('contactName', t('appointments.field.contactName'), { required: true, maxLength: 100 })}
            {text('contactMobile', t('appointments.field.contactMobile'), {
              required: true,
              inputMode: 'tel',
              pattern: '1[3-9][0-9]{9}',
              maxLength: 11,
              autoComplete: 'tel',
            })}
          </div>
        </fieldset>
        <fieldset>
          <legend>{t('appointments.book.what')}</legend>
          <div className="grid-form">
            <label>
              {t('appointments.field.service')}
              <select
                name="service"
                value={d.service}
                onChange={(e) => set('service', e.target.value as Draft['service'])}>
                {SERVICES.map((x) => (
                  <option key={x} value={x}>
                    {t(`appointments.service.${x}`)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('appointments.field.category')}
              <select
                name="category"
                value={d.category}
                onChange={(e) => set('category', e.target.value as Draft['category'])}
                {...invalid('category-err', errors.category)}>
                {CATEGORIES.map((x) => (
                  <option key={x} value={x} disabled={site?.categories[x] === 'OFF'}>
                    {t(`appointments.category.${x}`)}
                    {site?.categories[x] === 'REVIEW' ? ` · ${t('appointments.policy.REVIEW')}` : ''}
                    {site?.categories[x] === 'OFF' ? ` · ${t('appointments.policy.OFF')}` : ''}
                  </option>
                ))}
              </select>
              <FieldError id="category-err" text={errors.category} />
            </label>
            <label>
              {t('appointments.field.site')}
              <select
                name="site"
                value={d.site}
                onChange={(e) => setD((x) => ({ ...x, site: e.target.value, hour: undefined }))}
                {...invalid('site-err', errors.site)}>
                {!sites.data && <option value="">{t('common.loading')}</option>}
                {sites.data?.map((x) => (
                  <option key={x.code} value={x.code}>
                    {siteLabel(x)}
                  </option>
                ))}
              </select>
              <FieldError id="site-err" text={errors.site} />
            </label>
            <label>
              {t('appointments.field.iePort')}
              <select
                name="iePort"
                value={d.iePort}
                onChange={(e) => set('iePort', e.target.value)}
                {...invalid('iePort-err', errors.iePort)}>
                <option value="">—</option>
                {d.iePort && offices.data && !hasOffice.has(d.iePort) && <option value={d.iePort}>{d.iePort}</option>}
                {offices.data?.map((o) => (
                  <option key={o.code} value={o.code}>
                    {o.code} {officeName(o)}
                  </option>
                ))}
              </select>
              <FieldError id="iePort-err" text={errors.iePort} />
            </label>
            <label>
              {t('decl.ieFlag')}
              <select name="ieFlag" value={d.ieFlag} onChange={(e) => set('ieFlag', e.target.value as 'I' | 'E')}>
                <option value="I">{t('decl.I')}</option>
                <option value="E">{t('decl.E')}</option>
              </select>
            </label>
            <label>
              {t('decl.transport')}
              <select
                name="transportMode"
                value={d.transportMode}
                onChange={(e) => set('transportMode', e.target.value)}
                {...invalid('transportMode-err', errors.transportMode)}>
                {!modes.data && <option value="">{t('common.loading')}</option>}
                {modes.data?.map((m) => (
                  <option key={m.code} value={m.code}>
                    {m.code} {officeName(m)}
                  </option>
                ))}
              </select>
              <FieldError id="transportMode-err" text={errors.transportMode} />
            </label>
          </div>
        </fieldset>
        <fieldset>
          <legend>{t('appointments.field.goods')}</legend>
          <table className="grid appt-goods">
            <caption className="sr-only">{t('appointments.field.goods')}</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{t('appointments.field.goodsName')}</th>
                <th scope="col">{t('appointments.field.hsCode')}</th>
                <th scope="col">
                  <span className="sr-only">{t('common.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {goods.map((g, i) => (
                <tr key={i} data-goods={i}>
                  <td>{i + 1}</td>
                  <td>
                    <CellInput
                      id={`goods-${i}-name`}
                      label={`${t('appointments.field.goodsName')} ${i + 1}`}
                      value={g.name}
                      maxLength={200}
                      required
                      error={errors[`goods/${i}/name`]}
                      onChange={(e) => setGoods(goods.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))}
                    />
                  </td>
                  <td>
                    <CellInput
                      id={`goods-${i}-hsCode`}
                      label={`${t('appointments.field.hsCode')} ${i + 1}`}
                      value={g.hsCode}
                      inputMode="numeric"
                      pattern="[0-9]{8}"
                      maxLength={8}
                      size={10}
                      required
                      error={errors[`goods/${i}/hsCode`]}
                      onChange={(e) =>
                        setGoods(
                          goods.map((x, j) => (j === i ? { ...x, hsCode: e.target.value.replace(/\D/g, '') } : x)),
                        )
                      }
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      disabled={goods.length === 1}
                      aria-label={t('appointments.book.removeGoods', { n: i + 1 })}
                      onClick={() => {
                        setGoods(goods.filter((_, j) => j !== i))
                        requestAnimationFrame(() => document.getElementById('goods-0-name')?.focus())
                      }}>
                      {t('appointments.book.remove')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <FieldError id="goods-err" text={errors.goods} />
          <button
            type="button"
            onClick={() => {
              setGoods([...goods, { name: '', hsCode: '' }])
              const n = goods.length
              requestAnimationFrame(() => document.getElementById(`goods-${n}-name`)?.focus())
            }}>
            {t('appointments.book.addGoods')}
          </button>
        </fieldset>
        <fieldset>
          <legend>{t('appointments.book.when')}</legend>
          <p className="hint">{t(aeo ? 'appointments.book.leadAeo' : 'appointments.book.lead')}</p>
          <div className="row">
            <label>
              {t('appointments.field.date')}
              <input
                type="date"
                name="date"
                value={d.date}
                min={chinaDate()}
                required
                onChange={(e) => setD((x) => ({ ...x, date: e.target.value, hour: undefined }))}
                {...invalid('date-err', errors.date)}
              />
              <FieldError id="date-err" text={errors.date} />
            </label>
            <label>
              {t('appointments.field.flexHours')}
              <input
                type="number"
                name="flexHours"
                min={0}
                max={MAX_FLEX_HOURS}
                value={d.flexHours}
                onChange={(e) => set('flexHours', Math.max(0, Math.min(MAX_FLEX_HOURS, Number(e.target.value) || 0)))}
                {...invalid('flexHours-err', errors.flexHours)}
              />
              <span className="hint">{t('appointments.book.flexHint')}</span>
              <FieldError id="flexHours-err" text={errors.flexHours} />
            </label>
          </div>
          <SlotPicker day={slots.data} hour={d.hour} onHour={(h) => set('hour', h)} error={errors.hour} state={slots} />
        </fieldset>
        <fieldset>
          <legend>{t('appointments.book.why')}</legend>
          <label className="appt-wide">
            {t('appointments.field.reason')}
            <textarea
              name="reason"
              rows={2}
              maxLength={REASON_MAX}
              required
              value={d.reason}
              onChange={(e) => set('reason', e.target.value)}
              {...invalid('reason-err', errors.reason)}
            />
            <FieldError id="reason-err" text={errors.reason} />
          </label>
          <div className="grid-form">
            <label>
              {t('appointments.field.declarations')}
              <input
                name="declarations"
                value={d.declarations}
                onChange={(e) => set('declarations', e.target.value)}
                {...invalid('declarations-err', refErrors('declarations'))}
              />
              <span className="hint">{t('appointments.book.declarationsHint')}</span>
              <FieldError id="declarations-err" text={refErrors('declarations')} />
            </label>
            <label>
              {t('appointments.field.manifests')}
              <input
                name="manifests"
                value={d.manifests}
                onChange={(e) => set('manifests', e.target.value)}
                {...invalid('manifests-err', refErrors('manifests'))}
              />
              <span className="hint">{t('appointments.book.manifestsHint')}</span>
              <FieldError id="manifests-err" text={refErrors('manifests')} />
            </label>
          </div>
        </fieldset>
        <p className="hint">
          {t('appointments.field.clientRef')}: <code data-testid="client-ref">{clientRef}</code>
        </p>
        <FieldError id="clientRef-err" text={errors.clientRef} />
        <div className="row actions">
          <button type="submit" className="primary" disabled={busy || !ent}>
            {busy ? t('common.working') : t('appointments.book.submit')}
          </button>
        </div>
      </form>
    </Layout>
  )
}
