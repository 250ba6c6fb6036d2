import { useEffect, useRef } from 'react'
import type { AeoPartner } from '../../../../src/modules/enterprises/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { Async, Empty, ErrorBox, useAsync } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { useSession } from '../../session.js'
import { FieldError, invalid } from '../../components/Fields.js'
import { useRowsEditor } from '../../components/Rows.js'

interface Country {
  iso3: string
  nameEn: string
  nameZh: string | null
}
interface Row {
  country: string
  recognisedFrom: string
  recognisedTo: string
}

const toRows = (items: AeoPartner[]): Row[] =>
  items.map((p) => ({ country: p.country, recognisedFrom: p.recognisedFrom, recognisedTo: p.recognisedTo ?? '' }))

/** The AEO mutual-recognition partners: officers read the list; admins edit it and save it whole (PUT). */
export function AeoPartners() {
  const { t, lang } = useT()
  const s = useSession()
  const admin = s?.kind === 'user' && s.role === 'admin'
  const list = useAsync(() => api<{ items: AeoPartner[] }>('GET', '/api/v1/aeo-partners'), [])
  const countries = useAsync(() => api<{ items: Country[] }>('GET', '/api/v1/reference/countries'), [])
  const names = new Map((countries.data?.items ?? []).filter((c) => c.iso3).map((c) => [c.iso3, c]))
  const nameOf = (iso3: string) => {
    const c = names.get(iso3)
    return c ? (lang === 'zh' ? (c.nameZh ?? c.nameEn) : c.nameEn) : ''
  }
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('admin.aeo.title')}</h1>
        {!admin && <span className="sub">{t('admin.aeo.readOnly')}</span>}
      </div>
      <p className="hint">{t('admin.aeo.intro')}</p>
      <Async state={list}>
        {(d) =>
          admin ? (
            <Editor initial={d.items} countries={countries.data?.items ?? []} nameOf={nameOf} onSaved={list.reload} />
          ) : d.items.length === 0 ? (
            <Empty>{t('admin.aeo.empty')}</Empty>
          ) : (
            <section className="card-panel" aria-labelledby="aeo-list">
              <h2 id="aeo-list">{t('admin.aeo.list', { n: d.items.length })}</h2>
              <table className="grid" aria-labelledby="aeo-list">
                <thead>
                  <tr>
                    <th scope="col">{t('admin.aeo.country')}</th>
                    <th scope="col">{t('admin.aeo.from')}</th>
                    <th scope="col">{t('admin.aeo.to')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((p) => (
                    <tr key={p.country}>
                      <td>
                        {nameOf(p.country)} <small>{p.country}</small>
                      </td>
                      <td>{p.recognisedFrom}</td>
                      <td>{p.recognisedTo ?? t('admin.aeo.open')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )
        }
      </Async>
    </Layout>
  )
}

function Editor({
  initial,
  countries,
  nameOf,
  onSaved,
}: {
  initial: AeoPartner[]
  countries: Country[]
  nameOf: (iso3: string) => string
  onSaved: () => void
}) {
  const { t, lang } = useT()
  const ed = useRowsEditor<Row>(
    () => toRows(initial),
    async (rows) => {
      const items = rows.map((r) => ({
        country: r.country.trim().toUpperCase(),
        recognisedFrom: r.recognisedFrom,
        recognisedTo: r.recognisedTo || null,
      }))
      const d = await api<{ items: AeoPartner[] }>('PUT', '/api/v1/aeo-partners', { items })
      onSaved()
      return toRows(d.items)
    },
  )
  const { rows, set, busy, error, errors: errs } = ed
  const table = useRef<HTMLTableElement>(null)
  const focusRow = useRef<number | null>(null)
  const rowErr = (i: number, f: keyof Row) => ed.rowError(i, f)
  const onFields = Object.keys(errs).length > 0 && Object.keys(errs).every((k) => k.startsWith('items/'))
  useEffect(() => {
    if (focusRow.current !== null) {
      table.current?.querySelector<HTMLElement>(`[name="country-${focusRow.current}"]`)?.focus()
      focusRow.current = null
    }
  }, [rows.length])
  useEffect(() => {
    const first = Object.keys(errs).find((k) => k.startsWith('items/'))
    if (first) {
      const [, i, f] = first.split('/')
      table.current?.querySelector<HTMLElement>(`[name="${f}-${i}"]`)?.focus()
    }
  }, [error])
  return (
    <section className="card-panel" aria-labelledby="aeo-edit">
      <h2 id="aeo-edit">{t('admin.aeo.edit', { n: rows.length })}</h2>
      <datalist id="aeo-countries">
        {countries
          .filter((c) => c.iso3)
          .map((c) => (
            <option key={c.iso3} value={c.iso3}>
              {lang === 'zh' ? (c.nameZh ?? c.nameEn) : c.nameEn}
            </option>
          ))}
      </datalist>
      <form onSubmit={ed.submit} aria-labelledby="aeo-edit">
        {rows.length === 0 ? (
          <Empty>{t('admin.aeo.empty')}</Empty>
        ) : (
          <table className="grid aeo-edit" ref={table} aria-labelledby="aeo-edit">
            <thead>
              <tr>
                <th scope="col">{t('admin.aeo.country')}</th>
                <th scope="col">{t('admin.aeo.from')}</th>
                <th scope="col">{t('admin.aeo.to')}</th>
                <th scope="col">
                  <span className="sr-only">{t('common.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i} data-row={i}>
                  <td>
                    <label className="inline">
                      <span className="sr-only">{t('admin.aeo.countryN', { n: i + 1 })}</span>
                      <input
                        name={`country-${i}`}
                        value={r.country}
                        list="aeo-countries"
                        required
                        maxLength={3}
                        size={5}
                        onChange={(e) => set(i, { country: e.target.value.toUpperCase() })}
                        {...invalid(`aeo-${i}-country`, rowErr(i, 'country'))}
                      />{' '}
                      <span aria-hidden="true">{nameOf(r.country.trim().toUpperCase())}</span>
                    </label>
                    <FieldError id={`aeo-${i}-country`} text={rowErr(i, 'country')} />
                  </td>
                  <td>
                    <label className="inline">
                      <span className="sr-only">{t('admin.aeo.fromN', { n: i + 1 })}</span>
                      <input
                        type="date"
                        name={`recognisedFrom-${i}`}
                        value={r.recognisedFrom}
                        required
                        onChange={(e) => set(i, { recognisedFrom: e.target.value })}
                        {...invalid(`aeo-${i}-from`, rowErr(i, 'recognisedFrom'))}
                      />
                    </label>
                    <FieldError id={`aeo-${i}-from`} text={rowErr(i, 'recognisedFrom')} />
                  </td>
                  <td>
                    <label className="inline">
                      <span className="sr-only">{t('admin.aeo.toN', { n: i + 1 })}</span>
                      <input
                        type="date"
                        name={`recognisedTo-${i}`}
                        value={r.recognisedTo}
                        onChange={(e) => set(i, { recognisedTo: e.target.value })}
                        {...invalid(`aeo-${i}-to`, rowErr(i, 'recognisedTo'))}
                      />
                    </label>
                    <FieldError id={`aeo-${i}-to`} text={rowErr(i, 'recognisedTo')} />
                  </td>
                  <td className="actions">
                    <button
                      type="button"
                      aria-label={t('admin.aeo.removeN', { n: i + 1, country: r.country || '—' })}
                      onClick={() => ed.remove(i)}>
                      {t('res.remove')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div className="row actions">
          <button
            type="button"
            onClick={() => {
              focusRow.current = rows.length
              ed.add({ country: '', recognisedFrom: new Date().toISOString().slice(0, 10), recognisedTo: '' })
            }}>
            {t('admin.aeo.add')}
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? t('common.working') : t('admin.aeo.save')}
          </button>
        </div>
        {ed.saved > 0 && (
          <p className="notice" role="status">
            {t('admin.aeo.saved', { n: rows.length })}
          </p>
        )}
        {error !== undefined && !onFields && <ErrorBox error={error} />}
      </form>
    </section>
  )
}
