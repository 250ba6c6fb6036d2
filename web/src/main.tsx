import { StrictMode, useEffect } from 'react'
import { createRoot } from 'react-dom/client'
import { getLang, setLang } from './i18n.js'
import { match, navigate, useLocation } from './router.js'
import { useSession } from './session.js'
import { Login } from './pages/Login.js'
import { Queue } from './pages/Queue.js'
import { Dashboard } from './pages/Dashboard.js'
import { DeclarationView } from './pages/DeclarationView.js'
import { Rules } from './pages/Rules.js'
import { Models } from './pages/Models.js'
import { PortalDeclarations, Receipts } from './pages/Portal.js'
import { NewDeclaration } from './pages/NewDeclaration.js'
import { Archives, Certificates, Verify } from './pages/Documents.js'
import { AREA_PAGES, allowed } from './pages/all.js'
import { setAreaPages } from './pages/nav.js'
import './styles.css'

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to])
  return null
}

function App() {
  const { path } = useLocation()
  const s = useSession()
  const officer = s?.kind === 'user'
  const card = s?.kind === 'card'
  let m: Record<string, string> | undefined

  if (path === '/check') return <Verify />
  if (path === '/login')
    return s ? <Redirect to={officer ? '/officer/dashboard' : '/portal/declarations'} /> : <Login />
  if (!s) return <Redirect to="/login" />
  if (path === '/') return <Redirect to={officer ? '/officer/dashboard' : '/portal/declarations'} />
  if (officer) {
    if (path === '/officer/dashboard') return <Dashboard />
    if (path === '/officer/queue') return <Queue />
    if (path === '/officer/rules') return <Rules />
    if (path === '/officer/models') return <Models />
    if ((m = match('/officer/declarations/:id', path))) return <DeclarationView id={m.id!} />
  }
  if (card) {
    if (path === '/portal/declarations') return <PortalDeclarations />
    if (path === '/portal/new') return <NewDeclaration />
    if ((m = match('/portal/declarations/:id', path))) return <DeclarationView id={m.id!} />
    if (path === '/portal/receipts') return <Receipts />
    if (path === '/portal/archives') return <Archives />
    if (path === '/portal/certificates') return <Certificates />
  }
  for (const p of AREA_PAGES)
    if (allowed(p.audience, s.kind, s.role) && (m = match(p.path, path))) return <>{p.render(m)}</>
  return <Redirect to="/" />
}

setAreaPages(AREA_PAGES)
setLang(getLang())
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
