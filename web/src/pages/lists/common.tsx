import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react'
import { useT } from '../../i18n.js'
import { chinaTime } from '../../lib/format.js'
import { navigate, useLocation } from '../../router.js'

/**
 * The page's filters as its URL query (deep links: a reload or a shared link shows the same list). `set` replaces the
 * given keys (empty string: removed) and, unless it changes `offset` itself, goes back to the first page.
 */
export function useQueryState(): {
  query: URLSearchParams
  get: (k: string) => string
  set: (patch: Record<string, string>) => void
} {
  const { path, query } = useLocation()
  const set = (patch: Record<string, string>) => {
    const q = new URLSearchParams(query)
    if (!('offset' in patch)) q.delete('offset')
    for (const [k, v] of Object.entries(patch)) {
      if (v === '' || (k === 'offset' && v === '0')) q.delete(k)
      else q.set(k, v)
    }
    const s = q.toString()
    navigate(s ? `${path}?${s}` : path)
  }
  return { query, get: (k) => query.get(k) ?? '', set }
}

/** A China date (YYYY-MM-DD) as the UTC instant its day starts (China time, UTC+8). */
export const chinaDayStart = (day: string) => new Date(Date.parse(`${day}T00:00:00+08:00`)).toISOString()
/** The UTC instant the China day after `day` starts (an inclusive "to" date as an exclusive bound). */
export const chinaDayEnd = (day: string) => new Date(Date.parse(`${day}T00:00:00+08:00`) + 86_400_000).toISOString()

/**
 * Loads now and every `ms` while the page is open, keeping the last data while reloading (no flicker) and the time of
 * the last good answer; an error is shown beside the last data, not instead of it.
 */
export function usePoll<T>(load: () => Promise<T>, ms: number, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; at?: string }>({})
  const seq = useRef(0)
  const run = useCallback(() => {
    const n = ++seq.current
    load().then(
      (data) => {
        if (n === seq.current) setState({ data, at: new Date().toISOString() })
      },
      (error: unknown) => {
        if (n === seq.current) setState((s) => ({ ...s, error }))
      },
    )
    // `deps` decide when the load changes (as useAsync).
  }, deps)
  useEffect(() => {
    run()
    const timer = setInterval(run, ms)
    return () => clearInterval(timer)
  }, [run, ms])
  return { ...state, loading: state.data === undefined && state.error === undefined, reload: run }
}

/** "Updated at hh:mm:ss", announced politely to screen readers. */
export function UpdatedAt({ at }: { at?: string | undefined }) {
  const { t } = useT()
  return (
    <p className="hint updated-at" aria-live="polite">
      {at ? t('lists.updatedAt', { time: chinaTime(at).slice(11) }) : t('common.loading')}
    </p>
  )
}

/**
 * A modal confirmation (the native <dialog>: focus moves into it, Escape cancels, focus returns to the opener).
 * `children`: the fields the confirmation asks for (a reason, a note).
 */
export function ConfirmDialog({
  open,
  title,
  confirmLabel,
  busy,
  onConfirm,
  onCancel,
  children,
}: {
  open: boolean
  title: string
  confirmLabel: string
  busy?: boolean
  onConfirm: () => void
  onCancel: () => void
  children?: ReactNode
}) {
  const { t } = useT()
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const d = ref.current
    if (!d) return
    if (open && !d.open) d.showModal()
    if (!open && d.open) d.close()
  }, [open])
  return (
    <dialog ref={ref} className="lists-dialog" aria-labelledby="lists-dialog-title" onCancel={onCancel}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault()
          onConfirm()
        }}>
        <h2 id="lists-dialog-title">{title}</h2>
        {children}
        <div className="row">
          <button type="submit" className="primary lists-danger" disabled={busy}>
            {confirmLabel}
          </button>
          <button type="button" onClick={onCancel} disabled={busy}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </dialog>
  )
}
