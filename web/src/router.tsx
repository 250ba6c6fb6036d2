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

/**
 * The page's query parameters as state: filters and paging live in the URL, so a reload or a shared link shows the
 * same list. `patch` sets (or, with '' / undefined, removes) parameters, replacing the history entry.
 */
export function useQuery(): [URLSearchParams, (patch: Record<string, string | number | undefined>) => void] {
  const { path, query } = useLocation()
  const patch = (p: Record<string, string | number | undefined>) => {
    const q = new URLSearchParams(location.search)
    for (const [k, v] of Object.entries(p)) {
      if (v === undefined || v === '' || v === 0) q.delete(k)
      else q.set(k, String(v))
    }
    const s = q.toString()
    navigate(s ? `${path}?${s}` : path, { replace: true })
  }
  return [query, patch]
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
