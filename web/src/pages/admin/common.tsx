import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react'
import { ApiError } from '../../api.js'
import { errorText } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime } from '../../lib/format.js'
import { navigate, useLocation } from '../../router.js'

/** The screen's filters and page live in the URL query, so a reload or a shared link shows the same thing. */
export function useQueryState() {
  const { path, query } = useLocation()
  const set = (patch: Record<string, string | number | undefined>) => {
    const q = new URLSearchParams(query)
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || v === '' || v === 0) q.delete(k)
      else q.set(k, String(v))
    }
    const s = q.toString()
    navigate(s ? `${path}?${s}` : path)
  }
  return { query, set }
}

/**
 * Loads now, when `deps` change, and again every `everyMs` while the tab is visible. The last data stays on screen
 * while reloading (no flicker); a failed poll keeps it and reports the error beside the "updated" time.
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
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') run()
    }, everyMs)
    return () => {
      clearInterval(timer)
      seq.current++
    }
  }, [run, everyMs])
  return { ...state, loading: state.data === undefined && state.error === undefined, reload: run }
}

/** "Updated 20:15:03" (China time), and the last poll's failure when there is one. */
export function Updated({ at, error }: { at?: string | undefined; error?: unknown }) {
  const { t } = useT()
  return (
    <p className="admin-updated" data-testid="updated">
      {at && t('admin.updated', { time: chinaTime(at).slice(11) })}
      {error !== undefined && at && (
        <span className="warn" role="status">
          {' '}
          {t('admin.pollFailed', { error: errorText(error, t) })}
        </span>
      )}
    </p>
  )
}

/** The API's problems by field (`/body/uscc` → `uscc`, `/body/items/2/country` → `items/2/country`). */
export function fieldErrors(e: unknown, t: ReturnType<typeof useT>['t']): Record<string, string> {
  const out: Record<string, string> = {}
  if (!(e instanceof ApiError)) return out
  const items = e.body.errors.length
    ? e.body.errors
    : [{ code: e.body.code, message: e.body.message, pointer: e.body.pointer }]
  for (const x of items) {
    if (!x.pointer.startsWith('/body/')) continue
    const field = x.pointer.slice('/body/'.length)
    const known = t(`admin.err.${x.code}`)
    const text = known === `admin.err.${x.code}` ? x.message : known
    out[field] = out[field] ? `${out[field]}; ${text}` : `${x.code} — ${text}`
  }
  return out
}

/** A field's problem from the API, next to the field (its input points here with aria-describedby). */
export function FieldError({ id, text }: { id: string; text?: string | undefined }) {
  return (
    <span id={id} className="field-error" role={text ? 'alert' : undefined}>
      {text}
    </span>
  )
}

/** Props for an input that may carry an API problem: aria-invalid and the pointer to its message. */
export const invalid = (id: string, text?: string) =>
  text ? { 'aria-invalid': true as const, 'aria-describedby': id } : { 'aria-describedby': id }

/**
 * A modal confirmation (native <dialog>: focus stays inside, Esc cancels, focus returns to the opener). Its content
 * is a form; `onConfirm` gets the form's data.
 */
export function ConfirmDialog({
  title,
  confirmLabel,
  children,
  busy,
  onConfirm,
  onClose,
}: {
  title: string
  confirmLabel: string
  children?: ReactNode
  busy?: boolean
  onConfirm: (data: FormData) => void
  onClose: () => void
}) {
  const { t } = useT()
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const d = ref.current
    if (d && !d.open) d.showModal()
    return () => d?.close()
  }, [])
  return (
    <dialog
      ref={ref}
      className="admin-dialog"
      aria-labelledby="admin-dialog-title"
      onCancel={(e) => {
        e.preventDefault()
        onClose()
      }}>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          onConfirm(new FormData(e.currentTarget))
        }}>
        <h2 id="admin-dialog-title">{title}</h2>
        {children}
        <div className="row actions">
          <button type="submit" className="primary danger" disabled={busy}>
            {busy ? t('common.working') : confirmLabel}
          </button>
          <button type="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </dialog>
  )
}

/** Integer from the query (page offsets), never negative. */
export const intParam = (v: string | null) => Math.max(0, Number.parseInt(v ?? '0', 10) || 0)
