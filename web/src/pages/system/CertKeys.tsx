import { useState } from 'react'
import type { Jwks, QuarantineRange } from '../../../../src/modules/certificates/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { Async, ErrorBox, useAsync, useFocusOn } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime } from '../../lib/format.js'
import { useConfirm } from '../../components/Dialog.js'
import { CellInput, useRowsEditor } from '../../components/Rows.js'

const CATEGORIES = ['ANIMAL', 'PLANT', 'FOOD', 'OTHER'] as const

/** Certificate issuing keys (rotate with confirmation) and the quarantine HS table (admins). */
export function CertKeys() {
  const { t } = useT()
  const keys = useAsync(() => api<Jwks>('GET', '/api/v1/certificates/keys'), [])
  const [dialog, ask] = useConfirm()
  const [alg, setAlg] = useState<'Ed25519' | 'SM2'>('Ed25519')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const [rotated, setRotated] = useState<{ retired: string | null; activated: string }>()
  const rotatedRef = useFocusOn<HTMLParagraphElement>(rotated)
  const rotate = async () => {
    if (!(await ask(t('sys.keys.confirmRotate', { alg }), t('sys.keys.rotate')))) return
    setBusy(true)
    setError(undefined)
    try {
      setRotated(
        await api<{ retired: string | null; activated: string }>('POST', `/api/v1/certificates/keys/rotate?alg=${alg}`),
      )
      keys.reload()
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('sys.keys.title')}</h1>
      </div>
      {dialog}
      <section className="card-panel" aria-labelledby="keys-title">
        <h2 id="keys-title">{t('sys.keys.signing')}</h2>
        <p className="hint">{t('sys.keys.intro')}</p>
        <div className="row">
          <label htmlFor="rotate-alg">
            {t('common.alg')}
            <select id="rotate-alg" value={alg} onChange={(e) => setAlg(e.target.value as typeof alg)}>
              <option value="Ed25519">Ed25519</option>
              <option value="SM2">SM2 (SM3)</option>
            </select>
          </label>
          <button type="button" className="primary" disabled={busy} onClick={() => void rotate()}>
            {t('sys.keys.rotate')}
          </button>
        </div>
        {rotated && (
          <p className="notice" role="status" tabIndex={-1} ref={rotatedRef} data-testid="rotated">
            {t('sys.keys.rotated', { activated: rotated.activated, retired: rotated.retired ?? '—' })}
          </p>
        )}
        {error !== undefined && <ErrorBox error={error} />}
        <Async state={keys} empty={(d) => d.keys.length === 0} emptyText={t('sys.keys.none')}>
          {(d) => (
            <table className="grid" data-testid="cert-keys">
              <caption className="sys-caption">{t('sys.keys.caption', { n: d.keys.length })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('common.keyId')}</th>
                  <th scope="col">{t('common.alg')}</th>
                  <th scope="col">{t('common.status')}</th>
                  <th scope="col">{t('sys.keys.activatedAt')}</th>
                  <th scope="col">{t('sys.keys.retiredAt')}</th>
                </tr>
              </thead>
              <tbody>
                {[...d.keys].reverse().map((k) => (
                  <tr key={k.kid} className={k.status === 'ACTIVE' ? 'active' : undefined}>
                    <th scope="row">
                      <code>{k.kid}</code>
                    </th>
                    <td>{k.alg === 'EdDSA' ? 'Ed25519' : k.alg}</td>
                    <td>
                      <span className={`badge ${k.status === 'ACTIVE' ? 'state-released' : ''}`}>
                        {t(`sys.keys.${k.status}`)}
                      </span>
                    </td>
                    <td>{chinaTime(k.activatedAt)}</td>
                    <td>{chinaTime(k.retiredAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Async>
      </section>
      <QuarantineTable />
    </Layout>
  )
}

function QuarantineTable() {
  const { t } = useT()
  const ranges = useAsync(() => api<{ items: QuarantineRange[] }>('GET', '/api/v1/certificates/quarantine-ranges'), [])
  return (
    <section className="card-panel" aria-labelledby="q-title">
      <h2 id="q-title">{t('sys.q.title')}</h2>
      <p className="hint">{t('sys.q.intro')}</p>
      <Async state={ranges}>{(d) => <RangesForm initial={d.items} onSaved={ranges.reload} />}</Async>
    </section>
  )
}

function RangesForm({ initial, onSaved }: { initial: QuarantineRange[]; onSaved: () => void }) {
  const { t } = useT()
  const ed = useRowsEditor(initial, async (rows) => {
    const r = await api<{ items: QuarantineRange[] }>('PUT', '/api/v1/certificates/quarantine-ranges', {
      items: rows.map((x) => ({ ...x, ciqCode: x.ciqCode || null })),
    })
    onSaved()
    return r.items
  })
  const { rows, set, error, busy, saved } = ed
  const savedRef = useFocusOn<HTMLParagraphElement>(saved)
  const [dialog, ask] = useConfirm()
  const cell = (i: number, k: 'hsFrom' | 'hsTo' | 'ciqCode' | 'description', label: string) => (
    <td>
      <CellInput
        id={`q-${i}-${k}`}
        label={`${label} #${i + 1}`}
        error={ed.rowError(i, k)}
        value={rows[i]![k] ?? ''}
        onChange={(e) => set(i, { [k]: e.target.value })}
        size={k === 'description' ? 24 : 10}
      />
    </td>
  )
  return (
    <form onSubmit={ed.submit} noValidate>
      {dialog}
      <table className="grid" data-testid="quarantine">
        <caption className="sys-caption">{t('sys.q.caption', { n: rows.length })}</caption>
        <thead>
          <tr>
            <th scope="col">{t('sys.q.hsFrom')}</th>
            <th scope="col">{t('sys.q.hsTo')}</th>
            <th scope="col">{t('sys.q.ciq')}</th>
            <th scope="col">{t('sys.q.category')}</th>
            <th scope="col">{t('sys.q.description')}</th>
            <th scope="col">{t('common.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {cell(i, 'hsFrom', t('sys.q.hsFrom'))}
              {cell(i, 'hsTo', t('sys.q.hsTo'))}
              {cell(i, 'ciqCode', t('sys.q.ciq'))}
              <td>
                <label htmlFor={`q-${i}-category`}>
                  <span className="sr-only">
                    {t('sys.q.category')} #{i + 1}
                  </span>
                  <select
                    id={`q-${i}-category`}
                    value={r.category}
                    onChange={(e) => set(i, { category: e.target.value as QuarantineRange['category'] })}>
                    {CATEGORIES.map((c) => (
                      <option key={c} value={c}>
                        {t(`sys.q.${c}`)}
                      </option>
                    ))}
                  </select>
                </label>
              </td>
              {cell(i, 'description', t('sys.q.description'))}
              <td>
                <button
                  type="button"
                  aria-label={`${t('res.remove')} #${i + 1}`}
                  onClick={() =>
                    void ask(t('sys.q.confirmRemove', { from: r.hsFrom, to: r.hsTo }), t('res.remove')).then(
                      (ok) => ok && ed.remove(i),
                    )
                  }>
                  {t('res.remove')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {error !== undefined && <ErrorBox error={error} />}
      {saved > 0 && (
        <p className="notice" role="status" tabIndex={-1} ref={savedRef}>
          {t('sys.q.saved')}
        </p>
      )}
      <div className="row actions">
        <button
          type="button"
          onClick={() => ed.add({ hsFrom: '', hsTo: '', ciqCode: null, category: 'PLANT', description: '' })}>
          {t('sys.q.add')}
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {t('common.save')}
        </button>
      </div>
    </form>
  )
}
