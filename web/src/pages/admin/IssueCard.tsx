import { useEffect, useRef, useState } from 'react'
import type { Card } from '../../../../src/modules/cards/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { ErrorBox, Loading } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { Link, useQuery } from '../../router.js'
import { IssuedCard, PublicKeyField, useCardIssue } from './CardKey.js'
import { useEnterprises } from './Cards.js'
import { FieldError, fieldErrors, invalid } from '../../components/Fields.js'

/**
 * Issuing a port card to an enterprise's operator. The public key is generated here (the private key file is
 * downloaded once and never sent) or pasted / read from a file.
 */
export function IssueCard() {
  const { t } = useT()
  const { query } = useQuery()
  const ents = useEnterprises()
  const [enterpriseId, setEnterpriseId] = useState(query.get('enterpriseId') ?? '')
  const { source, setSource, pasted, setPasted, busy, error, issued, setIssued, submit } = useCardIssue((k, f) =>
    api<Card>('POST', '/api/v1/cards', {
      enterpriseId,
      kind: String(f.get('kind')),
      operatorName: String(f.get('operatorName')).trim(),
      ...k,
    }),
  )
  const form = useRef<HTMLFormElement>(null)
  const errs = fieldErrors(error, t)
  const shown = ['enterpriseId', 'operatorName', 'kind', 'publicKey', 'alg']
  const onFields = Object.keys(errs).length > 0 && Object.keys(errs).every((f) => shown.includes(f))
  const pending = !!issued?.generated
  useEffect(() => {
    const first = shown.find((f) => errs[f])
    if (first) form.current?.querySelector<HTMLElement>(`[name=${first}]`)?.focus()
  }, [error])
  // The only copy of a generated private key is in this page until it is downloaded: warn before leaving.
  useEffect(() => {
    if (!pending) return
    const warn = (e: BeforeUnloadEvent) => e.preventDefault()
    window.addEventListener('beforeunload', warn)
    return () => window.removeEventListener('beforeunload', warn)
  }, [pending])

  const ent = ents.byId.get(issued?.card.enterpriseId ?? enterpriseId)
  return (
    <Layout>
      <p>
        <Link to={`/admin/cards${enterpriseId ? `?enterpriseId=${enterpriseId}` : ''}`}>
          ← {t('admin.cards.title')}
        </Link>
      </p>
      <div className="page-head">
        <h1>{t('admin.issue.title')}</h1>
      </div>
      {issued ? (
        <>
          <IssuedCard
            card={issued.card}
            generated={issued.generated}
            enterprise={ent}
            onDownloaded={() => setIssued({ card: issued.card })}
          />
          <p>
            <button
              type="button"
              onClick={() => {
                if (pending && !confirm(t('admin.issued.leaveUnsaved'))) return
                setIssued(undefined)
                setPasted('')
              }}>
              {t('admin.issue.another')}
            </button>{' '}
            <Link to={`/admin/cards?enterpriseId=${issued.card.enterpriseId}`}>{t('admin.ent.cards')}</Link>
          </p>
        </>
      ) : ents.data === undefined && ents.error === undefined ? (
        <Loading />
      ) : (
        <form ref={form} className="card-panel admin-form" onSubmit={submit} aria-labelledby="issue-form">
          <h2 id="issue-form">{t('admin.issue.form')}</h2>
          {ents.error !== undefined && <ErrorBox error={ents.error} onRetry={ents.reload} />}
          <div className="row">
            <label className="grow">
              {t('admin.cards.enterprise')}
              <select
                name="enterpriseId"
                required
                value={enterpriseId}
                onChange={(e) => setEnterpriseId(e.target.value)}
                {...invalid('issue-ent-err', errs.enterpriseId)}>
                <option value="" disabled>
                  {t('admin.choose')}
                </option>
                {(ents.data?.items ?? []).map((e) => (
                  <option key={e.id} value={e.id}>
                    {e.name} ({e.customsCode}) · {t(`credit.${e.creditLevel}`)}
                  </option>
                ))}
              </select>
              <FieldError id="issue-ent-err" text={errs.enterpriseId} />
            </label>
          </div>
          <div className="row">
            <label className="grow">
              {t('admin.cards.operator')}
              <input name="operatorName" required maxLength={100} {...invalid('issue-op-err', errs.operatorName)} />
              <FieldError id="issue-op-err" text={errs.operatorName} />
            </label>
            <label>
              {t('admin.cards.kindLabel')}
              <select name="kind" defaultValue="OPERATOR" {...invalid('issue-kind-err', errs.kind)}>
                <option value="OPERATOR">{t('admin.cards.kind.OPERATOR')}</option>
                <option value="LEGAL">{t('admin.cards.kind.LEGAL')}</option>
              </select>
              <FieldError id="issue-kind-err" text={errs.kind} />
            </label>
          </div>
          <PublicKeyField
            source={source}
            onSource={setSource}
            pasted={pasted}
            onPasted={setPasted}
            error={errs.publicKey ?? errs.alg}
            idPrefix="issue"
          />
          <button type="submit" className="primary" disabled={busy}>
            {busy ? t('common.working') : t('admin.issue.submit')}
          </button>
          {error !== undefined && !onFields && <ErrorBox error={error} />}
        </form>
      )}
    </Layout>
  )
}
