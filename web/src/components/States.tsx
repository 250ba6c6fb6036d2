import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react'
import { ApiError } from '../api.js'
import { useT } from '../i18n.js'

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
export function useEvery(ms: number, f: () => void) {
  useEffect(() => {
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') f()
    }, ms)
    return () => clearInterval(id)
  }, [ms, f])
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
