import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react'

/** A small history router: paths are the app's state; links keep middle-click and modifier keys working. */
const listeners = new Set<() => void>()
const notify = () => {
  for (const f of listeners) f()
}
window.addEventListener('popstate', notify)

export function navigate(to: string, opts: { replace?: boolean } = {}) {
  if (to === location.pathname + location.search) return
  history[opts.replace ? 'replaceState' : 'pushState'](null, '', to)
  window.scrollTo(0, 0)
  notify()
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(
    (f) => {
      listeners.add(f)
      return () => listeners.delete(f)
    },
    () => location.pathname + location.search,
  )
  const u = new URL(href, location.origin)
  return { path: u.pathname, query: u.searchParams }
}

/** Matches `/officer/declarations/:id` against a path; returns the parameters or undefined. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/')
  const s = path.replace(/\/+$/, '').split('/')
  if (p.length !== s.length) return undefined
  const out: Record<string, string> = {}
  for (let i = 0; i < p.length; i++) {
    if (p[i]!.startsWith(':')) out[p[i]!.slice(1)] = decodeURIComponent(s[i]!)
    else if (p[i] !== s[i]) return undefined
  }
  return out
}

export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e)
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(to)
  }
  const current = location.pathname === to || (to !== '/' && location.pathname.startsWith(to + '/'))
  return <a href={to} onClick={click} aria-current={current ? 'page' : undefined} {...rest} />
}
