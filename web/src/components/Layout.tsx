import type { ReactNode } from 'react'
import { Link, navigate } from '../router.js'
import { setLang, useT, type Key } from '../i18n.js'
import { setCardKey, setSession, useSession } from '../session.js'
import { areaPages } from '../pages/nav.js'
import { allowed } from '../pages/registry.js'

const OFFICER_NAV: Array<[string, Key]> = [
  ['/officer/dashboard', 'nav.dashboard'],
  ['/officer/queue', 'nav.queue'],
  ['/officer/rules', 'nav.rules'],
  ['/officer/models', 'nav.models'],
]
const PORTAL_NAV: Array<[string, Key]> = [
  ['/portal/declarations', 'nav.declarations'],
  ['/portal/new', 'nav.new'],
  ['/portal/receipts', 'nav.receipts'],
  ['/portal/archives', 'nav.archives'],
  ['/portal/certificates', 'nav.certificates'],
]

export function LangSwitch() {
  const { t, lang } = useT()
  return (
    <button
      type="button"
      className="lang"
      onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}
      aria-label={t('lang.label')}
      lang={lang === 'zh' ? 'en' : 'zh-CN'}>
      {t('lang.switch')}
    </button>
  )
}

/** Page frame: skip link, header with the role's navigation, language switch and sign-out. */
export function Layout({ children, wide, dark }: { children: ReactNode; wide?: boolean; dark?: boolean }) {
  const { t } = useT()
  const s = useSession()
  const areaNav = (admin: boolean): Array<[string, Key]> =>
    s
      ? areaPages()
          .filter((p) => p.nav && allowed(p.audience, s.kind, s.role) && (p.group === 'admin') === admin)
          .map((p) => [p.path, p.nav!])
      : []
  const nav =
    s?.kind === 'user'
      ? [...OFFICER_NAV, ...areaNav(false)]
      : s?.kind === 'card'
        ? [...PORTAL_NAV, ...areaNav(false)]
        : [['/check', 'nav.verify'] as [string, Key]]
  const adminNav = areaNav(true)
  const logout = () => {
    setCardKey(null)
    setSession(null)
    navigate('/login')
  }
  return (
    <div className={`app${dark ? ' dark' : ''}`}>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="top">
        <Link to="/" className="brand">
          {t('app.name')}
        </Link>
        <nav aria-label="main">
          <ul>
            {nav.map(([to, key]) => (
              <li key={to}>
                <Link to={to}>{t(key)}</Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {s && <span className="user">{s.name}</span>}
          <LangSwitch />
          {s && (
            <button type="button" onClick={logout}>
              {t('nav.logout')}
            </button>
          )}
        </div>
      </header>
      {adminNav.length > 0 && (
        <nav className="admin-nav" aria-label={t('nav.admin')}>
          <span className="label">{t('nav.admin')}</span>
          <ul>
            {adminNav.map(([to, key]) => (
              <li key={to}>
                <Link to={to}>{t(key)}</Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <main id="main" tabIndex={-1} className={wide ? 'wide' : undefined}>
        {children}
      </main>
    </div>
  )
}
