import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react'
import { ApiError } from '../api.js'
import { useT } from '../i18n.js'
import { chinaTime } from '../lib/format.js'

/** Runs `load` when `deps` change; keeps the last data while reloading. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true })
  const seq = useRef(0)
  const run = useCallback(() => {
    const n = ++seq.current
    setState((s) => ({ ...s, loading: true }))
    load().then(
      (data) => {
        if (n === seq.current) setState({ data, loading: false })
      },
      (error: unknown) => {
        if (n === seq.current) setState({ error, loading: false })
      },
    )
    // The caller's `deps` decide when to reload, not `load`'s identity (a new closure on every render).
  }, deps)
  useEffect(run, [run])
  return { ...state, reload: run }
}

/** Calls `f` every `ms` while the page is visible: live lists reload in place (useAsync keeps the last data shown). */
function useEvery(ms: number, f: () => void) {
  useEffect(() => {
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') f()
    }, ms)
    return () => clearInterval(id)
  }, [ms, f])
}

/**
 * Loads now, when `deps` change, and again every `everyMs` while the page is visible. The last data stays on screen
 * while polling (no flicker); a failed poll keeps it and reports the error (show it with {@link Updated}). When `deps`
 * change the old data goes (it answered another question) and the screen shows it is loading.
 */
export function usePolled<T>(load: () => Promise<T>, deps: unknown[], everyMs = 10_000) {
  const [state, setState] = useState<{ data?: T; error?: unknown; updatedAt?: string }>({})
  const seq = useRef(0)
  const run = useCallback(() => {
    const n = ++seq.current
    load().then(
      (data) => {
        if (n === seq.current) setState({ data, updatedAt: new Date().toISOString() })
      },
      (error: unknown) => {
        if (n === seq.current) setState((s) => ({ ...s, error }))
      },
    )
    // The caller's `deps` decide when to reload, not `load`'s identity.
  }, deps)
  useEffect(() => {
    setState({})
    run()
    return () => {
      seq.current++
    }
  }, [run])
  useEvery(everyMs, run)
  return { ...state, loading: state.data === undefined && state.error === undefined, reload: run }
}

/**
 * "Updated 20:15:03" (China time) beside polled data (`everyMs`: also says how often it refreshes), and the last
 * poll's failure while older data stays shown.
 */
export function Updated({ at, error, everyMs }: { at?: string | undefined; error?: unknown; everyMs?: number }) {
  const { t } = useT()
  if (!at) return null
  const time = chinaTime(at).slice(11)
  return (
    <p className="hint updated-at" data-testid="updated">
      {everyMs ? t('common.updatedEvery', { time, s: everyMs / 1000 }) : t('common.updated', { time })}
      {error !== undefined && (
        <span className="warn" role="status">
          {' '}
          {t('common.pollFailed', { error: errorText(error, t) })}
        </span>
      )}
    </p>
  )
}

/** Moves focus to the element once `dep` is set (a result, a notice), so screen readers read it next. */
export function useFocusOn<T extends HTMLElement>(dep: unknown) {
  const ref = useRef<T>(null)
  useEffect(() => {
    if (dep) ref.current?.focus()
  }, [dep])
  return ref
}

/**
 * An action the screen runs (a print, a disable): `busy` names the one running (its key, '' when none), `error` is
 * the last one's failure until the next starts; `onDone` runs after a success (e.g. reloading the list).
 */
export function useAction() {
  const [busy, setBusy] = useState('')
  const [error, setError] = useState<unknown>()
  const run = (key: string, f: () => Promise<unknown>, onDone?: () => void) => {
    setBusy(key)
    setError(undefined)
    return f()
      .then(() => onDone?.(), setError)
      .finally(() => setBusy(''))
  }
  return { busy, error, run }
}

export function Loading({ label }: { label?: string }) {
  const { t } = useT()
  return (
    <div className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label ?? t('common.loading')}
    </div>
  )
}

/** The message of an API error with its field pointer, in the user's words where we have them. */
export function errorText(e: unknown, t: ReturnType<typeof useT>['t']): string {
  if (e instanceof ApiError) {
    if (e.status === 0) return t('err.network')
    const detail =
      e.body.errors.length > 1
        ? e.body.errors.map((x) => `${x.pointer || x.code}: ${x.message}`).join('; ')
        : `${e.body.message}${e.body.pointer ? ` (${e.body.pointer})` : ''}`
    return `${e.body.code} — ${detail}`
  }
  return e instanceof Error ? e.message : String(e)
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useT()
  return (
    <div className="state error" role="alert">
      <strong>{t('common.error')}</strong> <span className="error-text">{errorText(error, t)}</span>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  )
}

export function Empty({ children }: { children?: ReactNode }) {
  const { t } = useT()
  return <div className="state empty">{children ?? t('common.empty')}</div>
}

/** Loading / error / empty / content, in that order. */
export function Async<T>({
  state,
  empty,
  emptyText,
  children,
}: {
  state: { data?: T; error?: unknown; loading: boolean; reload: () => void }
  empty?: (d: T) => boolean
  emptyText?: string
  children: (d: T) => ReactNode
}) {
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />
  if (state.data === undefined) return <Loading />
  if (empty?.(state.data)) return <Empty>{emptyText}</Empty>
  return <>{children(state.data)}</>
}
