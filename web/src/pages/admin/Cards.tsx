import { useEffect, useRef, useState } from 'react'
import type { Card } from '../../../../src/modules/cards/schema.js'
import type { Enterprise } from '../../../../src/modules/enterprises/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { ConfirmDialog, Dialog } from '../../components/Dialog.js'
import { FieldError, fieldErrors, invalid } from '../../components/Fields.js'
import { Empty, ErrorBox, Loading, Updated, useAsync, usePolled } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime, int } from '../../lib/format.js'
import { Link, useQuery } from '../../router.js'
import { Pager } from '../../components/Pager.js'
import { IssuedCard, PublicKeyField, useCardIssue } from './CardKey.js'

const PAGE = 20
const REVOKE_REASONS = ['LOST', 'COMPROMISED', 'EMPLOYEE_LEFT', 'ENTERPRISE_CLOSED', 'OTHER'] as const

interface Stats {
  items: Array<{ period: string; newCards: number; replacements: number; revocations: number }>
  total: { newCards: number; replacements: number; revocations: number }
}

/** Every enterprise by id (for names in lists and the enterprise pickers); at most the API's page of 500. */
export function useEnterprises() {
  const r = useAsync(() => api<{ items: Enterprise[]; total: number }>('GET', '/api/v1/enterprises?limit=500'), [])
  return { ...r, byId: new Map((r.data?.items ?? []).map((e) => [e.id, e])) }
}

/** Issuance this year so far (China calendar) against the same days of last year: "2,184 cards issued, +102.79%". */
function yearToDate() {
  const today = chinaTime(new Date().toISOString()).slice(0, 10)
  const y = Number(today.slice(0, 4))
  const md = today.slice(5) === '02-29' ? '02-28' : today.slice(5)
  return { from: `${y}-01-01`, to: today, prevFrom: `${y - 1}-01-01`, prevTo: `${y - 1}-${md}`, year: y }
}

/** Growth as "+102.79%" (2 decimals, signed); none without last year's base. */
export function growth(now: number, before: number): string | undefined {
  if (before === 0) return undefined
  const g = ((now - before) / before) * 100
  return `${g >= 0 ? '+' : ''}${g.toFixed(2)}%`
}

function CardStats({ version }: { version: number }) {
  const { t } = useT()
  const span = yearToDate()
  const stats = usePolled(
    () =>
      Promise.all([
        api<Stats>('GET', `/api/v1/cards/stats?from=${span.from}&to=${span.to}&period=month`),
        api<Stats>('GET', `/api/v1/cards/stats?from=${span.prevFrom}&to=${span.prevTo}&period=year`),
      ]),
    [span.to],
  )
  useEffect(() => {
    if (version) stats.reload()
  }, [version])
  const issued = (s: Stats) => s.total.newCards + s.total.replacements
  return (
    <section className="card-panel" aria-labelledby="card-stats">
      <h2 id="card-stats">{t('admin.stats.title', { year: span.year })}</h2>
      {stats.data ? (
        <>
          <div className="admin-kpis" aria-live="polite" data-testid="card-stats">
            <p className="admin-kpi">
              <span className="admin-kpi-value">{int(issued(stats.data[0]))}</span>
              <span className="admin-kpi-label">
                {t('admin.stats.issued')}{' '}
                {growth(issued(stats.data[0]), issued(stats.data[1])) ? (
                  <span className="admin-growth" data-testid="growth">
                    {growth(issued(stats.data[0]), issued(stats.data[1]))}
                  </span>
                ) : (
                  <span data-testid="growth">{t('admin.stats.noBase')}</span>
                )}
              </span>
            </p>
            <p className="admin-kpi">
              <span className="admin-kpi-value">{int(stats.data[0].total.newCards)}</span>
              <span className="admin-kpi-label">{t('admin.stats.new')}</span>
            </p>
            <p className="admin-kpi">
              <span className="admin-kpi-value">{int(stats.data[0].total.replacements)}</span>
              <span className="admin-kpi-label">{t('admin.stats.replacements')}</span>
            </p>
            <p className="admin-kpi">
              <span className="admin-kpi-value">{int(stats.data[0].total.revocations)}</span>
              <span className="admin-kpi-label">{t('admin.stats.revocations')}</span>
            </p>
          </div>
          <p className="hint">
            {t('admin.stats.compare', { before: int(issued(stats.data[1])), from: span.prevFrom, to: span.prevTo })}
          </p>
          {stats.data[0].items.length > 0 && (
            <table className="grid admin-months" aria-label={t('admin.stats.perMonth')}>
              <thead>
                <tr>
                  <th scope="col">{t('admin.stats.month')}</th>
                  <th scope="col" className="num">
                    {t('admin.stats.new')}
                  </th>
                  <th scope="col" className="num">
                    {t('admin.stats.replacements')}
                  </th>
                  <th scope="col" className="num">
                    {t('admin.stats.revocations')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {stats.data[0].items.map((m) => (
                  <tr key={m.period}>
                    <td>{m.period}</td>
                    <td className="num">{int(m.newCards)}</td>
                    <td className="num">{int(m.replacements)}</td>
                    <td className="num">{int(m.revocations)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : stats.error !== undefined ? (
        <ErrorBox error={stats.error} onRetry={stats.reload} />
      ) : (
        <Loading />
      )}
      <Updated at={stats.updatedAt} error={stats.error} everyMs={10_000} />
    </section>
  )
}

/** Port cards: statistics, the list (by enterprise and status, paged, in the URL), replace and revoke per card. */
export function CardList() {
  const { t } = useT()
  const { query, set, int: intOf } = useQuery()
  const enterpriseId = query.get('enterpriseId') ?? ''
  const status = query.get('status') ?? ''
  const offset = intOf('offset')
  const ents = useEnterprises()
  const list = usePolled(() => {
    const p = new URLSearchParams({ limit: String(PAGE), offset: String(offset) })
    if (enterpriseId) p.set('enterpriseId', enterpriseId)
    if (status) p.set('status', status)
    return api<{ items: Card[]; total: number }>('GET', `/api/v1/cards?${p}`)
  }, [enterpriseId, status, offset])
  const [revoking, setRevoking] = useState<Card>()
  const [replacing, setReplacing] = useState<Card>()
  const [notice, setNotice] = useState<{ key: string; vars: Record<string, string> }>()
  // Bumped after this page's own changes, so the statistics follow at once rather than at the next poll.
  const [version, setVersion] = useState(0)
  const noticeRef = useRef<HTMLParagraphElement>(null)
  useEffect(() => {
    // The action's button is gone with the card's state: focus lands on the outcome.
    if (notice) noticeRef.current?.focus()
  }, [notice])
  const ent = enterpriseId ? ents.byId.get(enterpriseId) : undefined
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('admin.cards.title')}</h1>
        <Link className="button primary" to={`/admin/cards/new${enterpriseId ? `?enterpriseId=${enterpriseId}` : ''}`}>
          {t('admin.cards.issue')}
        </Link>
      </div>
      <CardStats version={version} />
      <section className="card-panel" aria-labelledby="card-list">
        <div className="page-head">
          <h2 id="card-list">{ent ? t('admin.cards.listOf', { name: ent.name }) : t('admin.cards.list')}</h2>
          <form className="inline-form" role="search" onSubmit={(e) => e.preventDefault()}>
            <label className="inline">
              {t('admin.cards.enterprise')}{' '}
              <select
                name="enterpriseId"
                value={enterpriseId}
                onChange={(e) => set({ enterpriseId: e.target.value, offset: undefined })}>
                <option value="">{t('portal.all')}</option>
                {enterpriseId && !ent && <option value={enterpriseId}>{enterpriseId.slice(0, 8)}</option>}
                {(ents.data?.items ?? []).map((e) => (
                  <option key={e.id} value={e.id}>
                    {e.name} ({e.customsCode})
                  </option>
                ))}
              </select>
            </label>
            <label className="inline">
              {t('common.status')}{' '}
              <select name="status" value={status} onChange={(e) => set({ status: e.target.value, offset: undefined })}>
                <option value="">{t('portal.all')}</option>
                <option value="ACTIVE">{t('admin.cards.ACTIVE')}</option>
                <option value="REVOKED">{t('admin.cards.REVOKED')}</option>
              </select>
            </label>
          </form>
        </div>
        {notice && (
          <p className="notice" role="status" tabIndex={-1} ref={noticeRef} data-testid="card-notice">
            {t(notice.key, notice.vars)}
          </p>
        )}
        {list.data ? (
          list.data.items.length === 0 ? (
            <Empty>{t('admin.cards.empty')}</Empty>
          ) : (
            <>
              <table className="grid" aria-labelledby="card-list">
                <thead>
                  <tr>
                    <th scope="col">{t('admin.cards.cardNo')}</th>
                    <th scope="col">{t('admin.cards.enterprise')}</th>
                    <th scope="col">{t('admin.cards.operator')}</th>
                    <th scope="col">{t('common.alg')}</th>
                    <th scope="col">{t('common.status')}</th>
                    <th scope="col">{t('admin.cards.issuedAt')}</th>
                    <th scope="col">{t('admin.cards.revokedAt')}</th>
                    <th scope="col">{t('common.actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.items.map((c) => {
                    const e = ents.byId.get(c.enterpriseId)
                    return (
                      <tr key={c.id} data-card-no={c.cardNo}>
                        <td>
                          <code>{c.cardNo}</code>
                          <br />
                          <small>
                            {t(`admin.cards.kind.${c.kind}`)} · {t(`admin.cards.type.${c.issueType}`)}
                          </small>
                        </td>
                        <td>
                          <Link to={`/admin/enterprises/${c.enterpriseId}`}>
                            {e?.name ?? c.enterpriseId.slice(0, 8)}
                          </Link>
                        </td>
                        <td>{c.operatorName}</td>
                        <td>{c.alg}</td>
                        <td>
                          <span className={`badge card-${c.status.toLowerCase()}`}>{t(`admin.cards.${c.status}`)}</span>
                        </td>
                        <td>{chinaTime(c.issuedAt)}</td>
                        <td>
                          {c.revokedAt ? (
                            <>
                              {chinaTime(c.revokedAt)}
                              <br />
                              <small>{c.revokeReason ? t(`admin.revoke.${c.revokeReason}`) : ''}</small>
                            </>
                          ) : (
                            '—'
                          )}
                        </td>
                        <td className="actions">
                          {c.status === 'ACTIVE' && (
                            <>
                              <button
                                type="button"
                                onClick={() => setReplacing(c)}
                                aria-label={t('admin.cards.replaceN', { card: c.cardNo })}>
                                {t('admin.cards.replace')}
                              </button>{' '}
                              <button
                                type="button"
                                className="danger"
                                onClick={() => setRevoking(c)}
                                aria-label={t('admin.cards.revokeN', { card: c.cardNo })}>
                                {t('admin.cards.revoke')}
                              </button>
                            </>
                          )}
                        </td>
                      </tr>
                    )
                  })}
                </tbody>
              </table>
              <Pager offset={offset} total={list.data.total} page={PAGE} onChange={(o) => set({ offset: o })} />
            </>
          )
        ) : list.error !== undefined ? (
          <ErrorBox error={list.error} onRetry={list.reload} />
        ) : (
          <Loading />
        )}
        <Updated at={list.updatedAt} error={list.error} everyMs={10_000} />
      </section>
      {revoking && (
        <RevokeDialog
          card={revoking}
          onClose={() => setRevoking(undefined)}
          onDone={(c) => {
            setRevoking(undefined)
            setNotice({ key: 'admin.cards.revoked', vars: { card: c.cardNo } })
            setVersion((v) => v + 1)
            list.reload()
          }}
        />
      )}
      {replacing && (
        <ReplaceDialog
          card={replacing}
          enterprise={ents.byId.get(replacing.enterpriseId)}
          onClose={(issued) => {
            if (issued)
              setNotice({ key: 'admin.cards.replaced', vars: { card: replacing.cardNo, newCard: issued.cardNo } })
            setReplacing(undefined)
            setVersion((v) => v + 1)
            list.reload()
          }}
        />
      )}
    </Layout>
  )
}

function RevokeDialog({ card, onClose, onDone }: { card: Card; onClose: () => void; onDone: (c: Card) => void }) {
  const { t } = useT()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const confirm = (f: FormData) => {
    setBusy(true)
    setError(undefined)
    const note = String(f.get('note') ?? '').trim()
    api<Card>('POST', `/api/v1/cards/${card.id}/revoke`, {
      reason: String(f.get('reason')),
      ...(note ? { note } : {}),
    }).then(onDone, (e: unknown) => {
      setBusy(false)
      setError(e)
    })
  }
  return (
    <ConfirmDialog
      title={t('admin.cards.confirmRevoke', { card: card.cardNo })}
      confirmLabel={t('admin.cards.revoke')}
      busy={busy}
      onConfirm={confirm}
      onClose={onClose}>
      <p>{t('admin.cards.revokeEffect', { operator: card.operatorName })}</p>
      <label>
        {t('admin.cards.revokeReason')}
        <select name="reason" required defaultValue="" autoFocus>
          <option value="" disabled>
            {t('admin.choose')}
          </option>
          {REVOKE_REASONS.map((r) => (
            <option key={r} value={r}>
              {t(`admin.revoke.${r}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('common.note')}
        <input name="note" maxLength={500} />
      </label>
      {error !== undefined && <ErrorBox error={error} />}
    </ConfirmDialog>
  )
}

/** Replacement (补办): the old card is revoked and a new one issued to the same operator for a new public key. */
function ReplaceDialog({
  card,
  enterprise,
  onClose,
}: {
  card: Card
  enterprise?: Enterprise | undefined
  onClose: (issued?: Card) => void
}) {
  const { t } = useT()
  const { source, setSource, pasted, setPasted, busy, error, issued, setIssued, submit } = useCardIssue((k, f) =>
    api<Card>('POST', `/api/v1/cards/${card.id}/replace`, { ...k, reason: String(f.get('reason')).trim() }),
  )
  const errs = fieldErrors(error, t)
  // A generated private key exists only here until downloaded: closing asks first.
  const close = () => {
    if (issued?.generated && !confirm(t('admin.issued.leaveUnsaved'))) return
    onClose(issued?.card)
  }
  return (
    <Dialog title={t('admin.cards.replaceTitle', { card: card.cardNo })} onClose={close}>
      {issued ? (
        <>
          <IssuedCard
            card={issued.card}
            generated={issued.generated}
            enterprise={enterprise}
            onDownloaded={() => setIssued({ card: issued.card })}
          />
          <button type="button" onClick={close}>
            {t('admin.close')}
          </button>
        </>
      ) : (
        <form onSubmit={submit}>
          <p>{t('admin.cards.replaceEffect', { operator: card.operatorName })}</p>
          <label>
            {t('admin.cards.replaceReason')}
            <input name="reason" required maxLength={500} autoFocus {...invalid('replace-reason-err', errs.reason)} />
            <FieldError id="replace-reason-err" text={errs.reason} />
          </label>
          <PublicKeyField
            source={source}
            onSource={setSource}
            pasted={pasted}
            onPasted={setPasted}
            error={errs.publicKey ?? errs.alg}
            idPrefix="replace"
          />
          <div className="row actions">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? t('common.working') : t('admin.cards.replaceSubmit')}
            </button>
            <button type="button" onClick={close}>
              {t('common.cancel')}
            </button>
          </div>
          {error !== undefined && !errs.reason && !errs.publicKey && !errs.alg && <ErrorBox error={error} />}
        </form>
      )}
    </Dialog>
  )
}
