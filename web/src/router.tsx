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
 * same list. `set(patch)` sets parameters ('' / undefined / 0 removes one) and pushes a history entry, so Back undoes
 * a filter or a page move like any other navigation; a patch that sets no `offset` / `page` goes back to the first
 * page (a new filter's results start at the top). `get(k)` is '' when absent; `int(k)` a non-negative integer (0).
 */
export function useQuery(): {
  query: URLSearchParams
  get: (k: string) => string
  int: (k: string) => number
  set: (patch: Record<string, string | number | undefined>) => void
} {
  const { path, query } = useLocation()
  const set = (patch: Record<string, string | number | undefined>) => {
    const q = new URLSearchParams(location.search)
    if (!('offset' in patch) && !('page' in patch)) {
      q.delete('offset')
      q.delete('page')
    }
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || v === '' || v === 0 || (v === '0' && (k === 'offset' || k === 'page'))) q.delete(k)
      else q.set(k, String(v))
    }
    const s = q.toString()
    navigate(s ? `${path}?${s}` : path)
  }
  const get = (k: string) => query.get(k) ?? ''
  return { query, get, int: (k) => Math.max(0, Number.parseInt(get(k), 10) || 0), set }
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
