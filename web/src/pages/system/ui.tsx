import { useEffect, useRef, useState, type ReactNode } from 'react'
import { ApiError } from '../../api.js'
import { useT } from '../../i18n.js'
import { chinaTime } from '../../lib/format.js'
import { useQuery } from '../../router.js'
import { useEvery } from '../../components/States.js'

/** The field errors of an API error, by JSON Pointer (`/body/params/thresholds/yellow` → its message). */
export function fieldErrors(e: unknown): Map<string, string> {
  const out = new Map<string, string>()
  if (!(e instanceof ApiError)) return out
  const items = e.body.errors.length
    ? e.body.errors
    : [{ code: e.body.code, message: e.body.message, pointer: e.body.pointer }]
  for (const x of items) if (x.pointer && !out.has(x.pointer)) out.set(x.pointer, `${x.code}: ${x.message}`)
  return out
}

/**
 * Props tying an input to its error: `aria-invalid` and `aria-describedby` pointing at the message that
 * {@link FieldError} renders under it. `id` is the input's id.
 */
export function invalid(errors: Map<string, string>, pointer: string, id: string) {
  return errors.has(pointer) ? { 'aria-invalid': true as const, 'aria-describedby': `${id}-err` } : {}
}

/** The message of `pointer`'s error, under its field. */
export function FieldError({ errors, pointer, id }: { errors: Map<string, string>; pointer: string; id: string }) {
  const m = errors.get(pointer)
  return m ? (
    <span className="field-error" id={`${id}-err`}>
      {m}
    </span>
  ) : null
}

/**
 * A modal confirmation (native `<dialog>`: focus moves into it, Escape cancels, focus returns to the button that
 * opened it). `ask(message)` resolves to whether the person confirmed.
 */
export function useConfirm(): [ReactNode, (message: string, confirmLabel?: string) => Promise<boolean>] {
  const { t } = useT()
  const ref = useRef<HTMLDialogElement>(null)
  const [state, setState] = useState<{ message: string; label?: string | undefined; resolve: (ok: boolean) => void }>()
  useEffect(() => {
    if (state && ref.current && !ref.current.open) ref.current.showModal()
  }, [state])
  const close = (ok: boolean) => {
    ref.current?.close()
    state?.resolve(ok)
    setState(undefined)
  }
  const node = (
    <dialog
      ref={ref}
      className="sys-dialog"
      aria-labelledby="sys-confirm-title"
      onCancel={(e) => {
        e.preventDefault()
        close(false)
      }}>
      {state && (
        <>
          <h2 id="sys-confirm-title">{t('sys.confirm.title')}</h2>
          <p>{state.message}</p>
          <div className="row actions">
            <button type="button" autoFocus onClick={() => close(false)}>
              {t('common.cancel')}
            </button>
            <button type="button" className="primary danger" onClick={() => close(true)}>
              {state.label ?? t('sys.confirm.ok')}
            </button>
          </div>
        </>
      )}
    </dialog>
  )
  const ask = (message: string, label?: string) =>
    new Promise<boolean>((resolve) => setState({ message, label, resolve }))
  return [node, ask]
}

/** Reloads `reload` every `ms` while the page is visible (`useEvery`); returns when the data was last refreshed. */
export function usePoll(reload: () => void, data: unknown, ms = 10_000): Date | undefined {
  const [at, setAt] = useState<Date>()
  useEffect(() => {
    if (data !== undefined) setAt(new Date())
  }, [data])
  useEvery(ms, reload)
  return at
}

export function Updated({ at }: { at: Date | undefined }) {
  const { t } = useT()
  return at ? (
    <p className="hint sys-updated">{t('dash.updated', { time: chinaTime(at.toISOString()).slice(11) })}</p>
  ) : null
}

/** The page's query parameters (filters, page) and their setter: the console's `useQuery` (router.tsx). */
export function useQueryState() {
  const [query, set] = useQuery()
  return { query, set }
}

/** Previous/next page links for offset paging (`page` in the URL, from 1). */
export function Pager({
  page,
  size,
  total,
  onPage,
}: {
  page: number
  size: number
  total: number
  onPage: (p: number) => void
}) {
  const { t } = useT()
  const last = Math.max(1, Math.ceil(total / size))
  return (
    <nav className="pager" aria-label={t('sys.pager')}>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t('common.prev')}
      </button>
      <span aria-live="polite">{t('common.page', { page: `${page} / ${last}`, total })}</span>
      <button type="button" disabled={page >= last} onClick={() => onPage(page + 1)}>
        {t('common.next')}
      </button>
    </nav>
  )
}

/** Moves focus to the element once it appears (a result, a notice), so screen readers read it next. */
export function useFocusOn<T extends HTMLElement>(dep: unknown) {
  const ref = useRef<T>(null)
  useEffect(() => {
    if (dep) ref.current?.focus()
  }, [dep])
  return ref
}
