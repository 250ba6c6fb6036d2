import { useEffect, useRef, useState, type FormEvent } from 'react'
import type { Card } from '../../../../src/modules/cards/schema.js'
import { useT } from '../../i18n.js'
import { cardKeyFileText, generateCardKey, readPublicKey, type PublicKeyResult } from '../../lib/cardgen.js'
import { FieldError, invalid } from '../../components/Fields.js'

export type KeySource = 'generate' | 'paste'
/** A key pair generated in this browser, held only until its file is downloaded. */
export type GeneratedKey = { publicKey: string; privateKey: string }

/**
 * Where the card's public key comes from: a pair generated in this browser (the private key is downloaded once and
 * never sent), or a public key the holder made elsewhere, pasted or read from a file.
 */
export function PublicKeyField({
  source,
  onSource,
  pasted,
  onPasted,
  error,
  idPrefix,
}: {
  source: KeySource
  onSource: (s: KeySource) => void
  pasted: string
  onPasted: (s: string) => void
  error?: string | undefined
  idPrefix: string
}) {
  const { t } = useT()
  const read = pasted.trim() ? readPublicKey(pasted) : undefined
  const fileInput = useRef<HTMLInputElement>(null)
  return (
    <fieldset className="admin-key">
      <legend>{t('admin.key.legend')}</legend>
      <label className="radio">
        <input
          type="radio"
          name={`${idPrefix}-source`}
          value="generate"
          checked={source === 'generate'}
          onChange={() => onSource('generate')}
        />{' '}
        {t('admin.key.generate')}
      </label>
      <label className="radio">
        <input
          type="radio"
          name={`${idPrefix}-source`}
          value="paste"
          checked={source === 'paste'}
          onChange={() => onSource('paste')}
        />{' '}
        {t('admin.key.paste')}
      </label>
      {source === 'generate' ? (
        <p className="hint">{t('admin.key.generateHint')}</p>
      ) : (
        <>
          <label>
            {t('admin.key.text')}
            <textarea
              name="publicKey"
              rows={4}
              spellCheck={false}
              value={pasted}
              onChange={(e) => onPasted(e.target.value)}
              {...invalid(`${idPrefix}-key-err`, error ?? (read && !read.ok ? 'x' : undefined))}
            />
          </label>
          <label>
            {t('admin.key.file')}
            <input
              ref={fileInput}
              type="file"
              name="publicKeyFile"
              accept=".json,.pem,.pub,.txt,.jwk,application/json"
              onChange={(e) => {
                const f = e.target.files?.[0]
                if (f) void f.text().then(onPasted)
              }}
            />
          </label>
          <p className="hint">{t('admin.key.formats')}</p>
          <KeyReading read={read} />
        </>
      )}
      <FieldError
        id={`${idPrefix}-key-err`}
        text={error ?? (read && !read.ok ? t(`admin.key.${read.problem}`) : undefined)}
      />
    </fieldset>
  )
}

function KeyReading({ read }: { read?: PublicKeyResult | undefined }) {
  const { t } = useT()
  if (!read?.ok) return null
  return (
    <p className="notice" role="status" data-testid="key-reading">
      {t('admin.key.read', { alg: read.alg, key: `${read.publicKey.slice(0, 12)}…` })}
      {read.hadPrivateKey && (
        <>
          {' '}
          <strong>{t('admin.key.privateIgnored')}</strong>
        </>
      )}
    </p>
  )
}

/** The public key to post for the chosen source; generates the pair when asked (kept by the caller until download). */
export async function resolvePublicKey(
  source: KeySource,
  pasted: string,
): Promise<{ alg: 'Ed25519' | 'SM2'; publicKey: string; generated?: GeneratedKey } | { problem: string }> {
  if (source === 'generate') {
    const k = await generateCardKey()
    return { alg: 'Ed25519', publicKey: k.publicKey, generated: k }
  }
  const r = readPublicKey(pasted)
  return r.ok ? { alg: r.alg, publicKey: r.publicKey } : { problem: r.problem }
}

/**
 * After issuance: the card number, and for a key generated here the one download of its key file (the portal login's
 * format, naming the card). After the download the private key is dropped from this page.
 */
export function IssuedCard({
  card,
  generated,
  enterprise,
  onDownloaded,
}: {
  card: Card
  generated?: GeneratedKey | undefined
  enterprise?: { name: string; customsCode: string } | undefined
  onDownloaded: () => void
}) {
  const { t } = useT()
  const [downloaded, setDownloaded] = useState(false)
  const download = () => {
    if (!generated) return
    const blob = new Blob([cardKeyFileText(generated, card.cardNo, enterprise)], { type: 'application/json' })
    const url = URL.createObjectURL(blob)
    const a = document.createElement('a')
    a.href = url
    a.download = `kouan-card-${card.cardNo}.json`
    document.body.append(a)
    a.click()
    a.remove()
    setTimeout(() => URL.revokeObjectURL(url), 1000)
    setDownloaded(true)
    onDownloaded()
  }
  return (
    <section className="card-panel admin-issued" aria-labelledby="issued-title" data-testid="issued">
      <h2 id="issued-title" tabIndex={-1}>
        {t('admin.issued.title')}
      </h2>
      <p className="admin-cardno">
        {t('admin.issued.cardNo')} <strong data-testid="issued-card-no">{card.cardNo}</strong>
      </p>
      <dl className="facts">
        <dt>{t('admin.cards.operator')}</dt>
        <dd>{card.operatorName}</dd>
        <dt>{t('common.alg')}</dt>
        <dd>{card.alg}</dd>
        <dt>{t('common.keyId')}</dt>
        <dd>
          <code>{card.keyId}</code>
        </dd>
      </dl>
      {generated || downloaded ? (
        <>
          <p className="admin-keep" role="note">
            <strong>{t('admin.issued.keep')}</strong> {t('admin.issued.keepWhy')}
          </p>
          <button type="button" className="primary" onClick={download} disabled={downloaded}>
            {downloaded ? t('admin.issued.downloaded') : t('admin.issued.download')}
          </button>
          {downloaded && (
            <p className="hint" role="status">
              {t('admin.issued.afterDownload', { file: `kouan-card-${card.cardNo}.json` })}
            </p>
          )}
        </>
      ) : (
        <p className="hint">{t('admin.issued.holderKeeps')}</p>
      )}
    </section>
  )
}

/**
 * Issuing a card for a public key (new card or replacement): the key's source and pasted text for
 * {@link PublicKeyField}, then `submit` resolves the key (generating a pair when asked), calls `post` with it and the
 * form's data, and keeps the issued card (and the generated key until downloaded); focus moves to the result.
 */
export function useCardIssue(post: (key: { alg: string; publicKey: string }, form: FormData) => Promise<Card>) {
  const { t } = useT()
  const [source, setSource] = useState<KeySource>('generate')
  const [pasted, setPasted] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const [issued, setIssued] = useState<{ card: Card; generated?: GeneratedKey | undefined }>()
  useEffect(() => {
    if (issued) document.getElementById('issued-title')?.focus()
  }, [issued?.card.id])
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const f = new FormData(e.currentTarget)
    setBusy(true)
    setError(undefined)
    void (async () => {
      try {
        const k = await resolvePublicKey(source, pasted)
        if ('problem' in k) throw new Error(t(`admin.key.${k.problem}`))
        const card = await post({ alg: k.alg, publicKey: k.publicKey }, f)
        setIssued({ card, generated: k.generated })
      } catch (err) {
        setError(err)
      } finally {
        setBusy(false)
      }
    })()
  }
  return { source, setSource, pasted, setPasted, busy, error, issued, setIssued, submit }
}
