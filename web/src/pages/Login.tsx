import { useState, type FormEvent } from 'react'
import { api } from '../api.js'
import { Layout } from '../components/Layout.js'
import { ErrorBox, Loading } from '../components/States.js'
import { useT } from '../i18n.js'
import { KeyMismatchError, importSigningKey, parseKeyFile, signText, type CardSigner } from '../lib/card.js'
import { navigate } from '../router.js'
import { setCardKey, setSession, type Session } from '../session.js'

interface Me {
  kind: 'user' | 'card'
  id: string
  role: string
  name: string
  enterpriseId?: string
  cardNo?: string
}

async function finish({ token, expiresAt }: { token: string; expiresAt: string }): Promise<Session> {
  setSession({ token, expiresAt, kind: 'user', role: '', name: '' })
  const me = await api<Me>('GET', '/api/v1/auth/me')
  const s: Session = {
    token,
    expiresAt,
    kind: me.kind,
    role: me.role,
    name: me.name,
    enterpriseId: me.enterpriseId,
    cardNo: me.cardNo,
  }
  setSession(s)
  return s
}

/**
 * Loads a key file into a signer (Ed25519: non-extractable WebCrypto key; SM2: in JS) with the card number the file
 * names, if any; or throws a translated message.
 */
export async function loadKeyFile(
  file: File,
  t: ReturnType<typeof useT>['t'],
): Promise<CardSigner & { cardNo?: string }> {
  const parsed = parseKeyFile(await file.text())
  if (!parsed.ok) throw new Error(t(`card.${parsed.reason}`))
  try {
    const signer = await importSigningKey(parsed.key)
    return parsed.key.cardNo ? Object.assign(signer, { cardNo: parsed.key.cardNo }) : signer
  } catch (e) {
    throw new Error(t(e instanceof KeyMismatchError ? 'card.BAD_KEY' : 'card.noCrypto'))
  }
}

export function Login() {
  const { t } = useT()
  const [tab, setTab] = useState<'officer' | 'card'>(() =>
    localStorage.getItem('kouan.loginTab') === 'officer' ? 'officer' : 'card',
  )
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const expired = sessionStorage.getItem('kouan.expired') === '1'
  const choose = (x: 'officer' | 'card') => {
    setTab(x)
    localStorage.setItem('kouan.loginTab', x)
    setError(undefined)
  }

  const run = async (f: () => Promise<void>) => {
    setBusy(true)
    setError(undefined)
    try {
      await f()
      sessionStorage.removeItem('kouan.expired')
    } catch (e) {
      setError(e)
      setSession(null)
    } finally {
      setBusy(false)
    }
  }

  const officer = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const f = new FormData(e.currentTarget)
    void run(async () => {
      await finish(
        await api<{ token: string; expiresAt: string }>('POST', '/api/v1/auth/login', {
          username: String(f.get('username')),
          password: String(f.get('password')),
        }),
      )
      navigate('/officer/dashboard')
    })
  }

  const card = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const f = new FormData(e.currentTarget)
    const typed = String(f.get('cardNo')).trim()
    const file = f.get('keyFile') as File | null
    void run(async () => {
      if (!file || file.size === 0) throw new Error(t('card.needKey'))
      const key = await loadKeyFile(file, t)
      // An empty field takes the number the key file names (the demo card's file does).
      const cardNo = typed || key.cardNo
      if (!cardNo) throw new Error(t('card.needCardNo'))
      const ch = await api<{ challengeId: string; challenge: string }>('POST', '/api/v1/auth/challenge', { cardNo })
      const signature = await signText(key, ch.challenge)
      await finish(
        await api<{ token: string; expiresAt: string }>('POST', '/api/v1/auth/card-login', {
          challengeId: ch.challengeId,
          signature,
        }),
      )
      setCardKey(key)
      localStorage.setItem('kouan.cardNo', cardNo)
      navigate('/portal/declarations')
    })
  }

  return (
    <Layout>
      <section className="login card-panel">
        <h1>{t('login.title')}</h1>
        {expired && (
          <p className="notice" role="status">
            {t('login.expired')}
          </p>
        )}
        <div role="tablist" className="tabs" aria-label={t('login.title')}>
          <button role="tab" type="button" aria-selected={tab === 'card'} onClick={() => choose('card')}>
            {t('login.enterprise')}
          </button>
          <button role="tab" type="button" aria-selected={tab === 'officer'} onClick={() => choose('officer')}>
            {t('login.officer')}
          </button>
        </div>
        {tab === 'officer' ? (
          <form onSubmit={officer} aria-label={t('login.officer')}>
            <label>
              {t('login.username')}
              <input name="username" autoComplete="username" required autoFocus />
            </label>
            <label>
              {t('login.password')}
              <input name="password" type="password" autoComplete="current-password" required />
            </label>
            <button type="submit" className="primary" disabled={busy}>
              {t('login.submit')}
            </button>
          </form>
        ) : (
          <form onSubmit={card} aria-label={t('login.enterprise')}>
            <label>
              {t('login.cardNo')}
              <input
                name="cardNo"
                aria-describedby="card-no-hint"
                defaultValue={localStorage.getItem('kouan.cardNo') ?? ''}
                autoComplete="off"
                spellCheck={false}
                autoFocus
              />
            </label>
            <p className="hint" id="card-no-hint">
              {t('login.cardNoHint')}
            </p>
            <label>
              {t('login.keyFile')}
              <input name="keyFile" type="file" accept=".json,application/json" required />
            </label>
            <p className="hint">{t('login.keyNote')}</p>
            <button type="submit" className="primary" disabled={busy}>
              {t('login.submit')}
            </button>
          </form>
        )}
        {busy && <Loading label={tab === 'card' ? t('login.signing') : t('common.working')} />}
        {error !== undefined && <ErrorBox error={error} />}
      </section>
    </Layout>
  )
}
