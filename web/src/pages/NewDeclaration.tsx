import { useEffect, useState, type ChangeEvent, type FormEvent } from 'react'
import type { Declaration, DeclarationContent, Item } from '../../../src/modules/declarations/schema.js'
import type { Enterprise } from '../../../src/modules/enterprises/schema.js'
import { api, ApiError } from '../api.js'
import { Layout } from '../components/Layout.js'
import { ErrorBox, Loading } from '../components/States.js'
import { useT } from '../i18n.js'
import { signDeclaration } from '../lib/card.js'
import { isDecimal, mulDecimal } from '../lib/decimal.js'
import { navigate } from '../router.js'
import { setCardKey, useCardKey, useSession } from '../session.js'
import { loadKeyFile } from './Login.js'
import { CLIENT_REF_MAX, MAX_ITEMS } from '../../../src/modules/declarations/limits.js'

type ItemDraft = Omit<Item, 'totalValue'>

const newRef = () =>
  `WEB-${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${Math.floor(Math.random() * 1e4)}`
const blankItem = (): ItemDraft => ({
  hsCode: '',
  description: '',
  quantity: '',
  unit: '035',
  unitPrice: '',
  originCountry: '',
})

/** The declaration form: fills the enterprise's own codes, computes totals exactly, signs in the browser with the card key. */
export function NewDeclaration() {
  const { t } = useT()
  const s = useSession()
  const key = useCardKey()
  const [ent, setEnt] = useState<Enterprise>()
  const [head, setHead] = useState({
    clientRef: newRef(),
    ieFlag: 'I' as 'I' | 'E',
    customsDistrict: '5301',
    iePort: '5302',
    tradeMode: '0110',
    transportMode: '2',
    transactionTerms: '1',
    currency: 'USD',
    tradeCountry: 'USA',
    billNo: '',
    packages: '1',
    grossMassKg: '',
    netMassKg: '',
  })
  const [items, setItems] = useState<ItemDraft[]>([blankItem()])
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const [keyError, setKeyError] = useState<unknown>()

  useEffect(() => {
    if (s?.enterpriseId) api<Enterprise>('GET', `/api/v1/enterprises/${s.enterpriseId}`).then(setEnt, setError)
  }, [s?.enterpriseId])

  const h = (k: keyof typeof head) => (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setHead({ ...head, [k]: e.target.value })
  const it = (i: number, k: keyof ItemDraft) => (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setItems(
      items.map((x, j) =>
        j === i
          ? { ...x, [k]: k === 'hsCode' || k === 'originCountry' ? e.target.value.toUpperCase() : e.target.value }
          : x,
      ),
    )
  const total = (x: ItemDraft) =>
    isDecimal(x.quantity) && isDecimal(x.unitPrice, 4) ? mulDecimal(x.quantity, x.unitPrice, 2) : ''
  const pointerOf = (p: string) => error instanceof ApiError && error.body.errors.some((e) => e.pointer === p)

  const pickKey = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0]
    if (!f) return
    setKeyError(undefined)
    try {
      setCardKey(await loadKeyFile(f, t))
    } catch (err) {
      setKeyError(err)
    }
  }

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!key || !s?.cardNo || !ent) return
    setBusy(true)
    setError(undefined)
    try {
      const content: DeclarationContent = {
        clientRef: head.clientRef,
        ieFlag: head.ieFlag,
        customsDistrict: head.customsDistrict,
        iePort: head.iePort,
        tradeMode: head.tradeMode,
        transportMode: head.transportMode,
        transactionTerms: head.transactionTerms,
        currency: head.currency,
        traderCode: ent.customsCode,
        declarantCode: ent.customsCode,
        tradeCountry: head.tradeCountry,
        ...(head.billNo ? { billNo: head.billNo } : {}),
        packages: Number(head.packages),
        grossMassKg: head.grossMassKg,
        netMassKg: head.netMassKg,
        items: items.map((x) => ({ ...x, totalValue: total(x) })),
      }
      const body = await signDeclaration(key, s.cardNo, content)
      const d = await api<Declaration>('POST', '/api/v1/declarations', body)
      navigate(`/portal/declarations/${d.id}?new=1`)
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  const field = (k: keyof typeof head, label: string, extra: Record<string, unknown> = {}) => (
    <label>
      {label}
      <input value={head[k]} onChange={h(k)} aria-invalid={pointerOf(`/body/${k}`) || undefined} {...extra} />
    </label>
  )

  return (
    <Layout>
      <div className="page-head">
        <h1>{t('new.title')}</h1>
      </div>
      {!ent && !error && <Loading />}
      <form className="card-panel declaration-form" onSubmit={submit} aria-label={t('new.title')}>
        <fieldset>
          <legend>{t('decl.header')}</legend>
          <div className="grid-form">
            {field('clientRef', t('decl.clientRef'), { required: true, maxLength: CLIENT_REF_MAX, name: 'clientRef' })}
            <label>
              {t('decl.ieFlag')}
              <select value={head.ieFlag} onChange={h('ieFlag')}>
                <option value="I">{t('decl.I')}</option>
                <option value="E">{t('decl.E')}</option>
              </select>
            </label>
            {field('customsDistrict', t('decl.district'), {
              required: true,
              pattern: '[0-9]{4}',
              inputMode: 'numeric',
              name: 'customsDistrict',
            })}
            {field('iePort', t('decl.port'), {
              required: true,
              pattern: '[0-9]{4}',
              inputMode: 'numeric',
              name: 'iePort',
            })}
            {field('tradeMode', t('decl.tradeMode'), {
              required: true,
              pattern: '[0-9]{4}',
              list: 'trade-modes',
              name: 'tradeMode',
            })}
            <label>
              {t('decl.transport')}
              <select value={head.transportMode} onChange={h('transportMode')}>
                {[
                  ['2', '水路 / water'],
                  ['3', '铁路 / rail'],
                  ['4', '公路 / road'],
                  ['5', '航空 / air'],
                  ['6', '邮件 / post'],
                  ['9', '其他 / other'],
                ].map(([v, l]) => (
                  <option key={v} value={v}>
                    {v} {l}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('decl.terms')}
              <select value={head.transactionTerms} onChange={h('transactionTerms')}>
                {[
                  ['1', 'CIF'],
                  ['2', 'C&F'],
                  ['3', 'FOB'],
                  ['4', 'C&I'],
                  ['5', '市场价'],
                  ['6', '垫仓'],
                  ['7', 'EXW'],
                ].map(([v, l]) => (
                  <option key={v} value={v}>
                    {v} {l}
                  </option>
                ))}
              </select>
            </label>
            {field('currency', t('decl.currency'), { required: true, pattern: '[A-Z]{3}', name: 'currency' })}
            {field('tradeCountry', t('decl.tradeCountry'), {
              required: true,
              pattern: '[A-Z]{3}',
              name: 'tradeCountry',
            })}
            {field('billNo', t('decl.billNo'), { maxLength: 32, name: 'billNo' })}
            {field('packages', t('decl.packages'), { required: true, type: 'number', min: 1, name: 'packages' })}
            {field('grossMassKg', t('decl.gross'), {
              required: true,
              inputMode: 'decimal',
              pattern: '[0-9]+(\\.[0-9]{1,5})?',
              name: 'grossMassKg',
            })}
            {field('netMassKg', t('decl.net'), {
              required: true,
              inputMode: 'decimal',
              pattern: '[0-9]+(\\.[0-9]{1,5})?',
              name: 'netMassKg',
            })}
            <label>
              {t('decl.traderCode')}
              <input value={ent?.customsCode ?? ''} readOnly />
            </label>
          </div>
          <datalist id="trade-modes">
            <option value="0110">一般贸易</option>
            <option value="0214">来料加工</option>
            <option value="0615">进料对口</option>
            <option value="9610">跨境直购</option>
            <option value="1210">保税电商</option>
          </datalist>
        </fieldset>
        <fieldset>
          <legend>{t('decl.items')}</legend>
          <p className="hint">{t('new.totalAuto')}</p>
          {items.map((x, i) => (
            <div className="item-row" key={i} data-item={i}>
              <span className="gno">{i + 1}</span>
              <label>
                {t('item.hs')}
                <input
                  value={x.hsCode}
                  onChange={it(i, 'hsCode')}
                  required
                  pattern="[0-9]{10}"
                  inputMode="numeric"
                  name={`hsCode-${i}`}
                  aria-invalid={pointerOf(`/body/items/${i}/hsCode`) || undefined}
                />
              </label>
              <label className="grow">
                {t('item.desc')}
                <input
                  value={x.description}
                  onChange={it(i, 'description')}
                  required
                  maxLength={255}
                  name={`description-${i}`}
                />
              </label>
              <label>
                {t('item.qty')}
                <input
                  value={x.quantity}
                  onChange={it(i, 'quantity')}
                  required
                  inputMode="decimal"
                  name={`quantity-${i}`}
                />
              </label>
              <label>
                {t('item.unit')}
                <input
                  value={x.unit}
                  onChange={it(i, 'unit')}
                  required
                  pattern="[0-9]{3}"
                  size={4}
                  name={`unit-${i}`}
                />
              </label>
              <label>
                {t('item.price')}
                <input
                  value={x.unitPrice}
                  onChange={it(i, 'unitPrice')}
                  required
                  inputMode="decimal"
                  name={`unitPrice-${i}`}
                />
              </label>
              <label>
                {t('item.total')}
                <output>{total(x) || '—'}</output>
              </label>
              <label>
                {t('item.origin')}
                <input
                  value={x.originCountry}
                  onChange={it(i, 'originCountry')}
                  required
                  pattern="[A-Z]{3}"
                  size={4}
                  name={`originCountry-${i}`}
                />
              </label>
              {items.length > 1 && (
                <button type="button" onClick={() => setItems(items.filter((_, j) => j !== i))}>
                  {t('new.removeItem')}
                </button>
              )}
            </div>
          ))}
          {items.length < MAX_ITEMS && (
            <button type="button" onClick={() => setItems([...items, blankItem()])}>
              {t('new.addItem')}
            </button>
          )}
        </fieldset>
        {!key && (
          <fieldset className="key">
            <legend>{t('card.needKey')}</legend>
            <label>
              {t('login.keyFile')}
              <input type="file" accept=".json,application/json" onChange={(e) => void pickKey(e)} name="keyFile" />
            </label>
            <p className="hint">{t('login.keyNote')}</p>
            {keyError !== undefined && <ErrorBox error={keyError} />}
          </fieldset>
        )}
        {key && <p className="hint">{t('card.loaded')}</p>}
        <button type="submit" className="primary" disabled={busy || !key || !ent}>
          {t('new.sign')}
        </button>
        {busy && <Loading label={t('new.signing')} />}
        {error !== undefined && <ErrorBox error={error} />}
      </form>
    </Layout>
  )
}
