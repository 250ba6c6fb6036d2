import { useId, useLayoutEffect, useRef, useState, type ReactNode } from 'react'
import { useT } from '../i18n.js'

/**
 * A modal dialog (native `<dialog>`): opens when mounted, focus moves into it and stays there, Escape calls `onClose`,
 * and focus returns to the element that opened it when it goes (the caller unmounts it). Its `<h2>` names it.
 */
export function Dialog({
  title,
  onClose,
  children,
  initialFocus,
}: {
  title: string
  onClose: () => void
  children: ReactNode
  /** A selector inside the dialog to focus once open (default: the browser's, the first focusable element). */
  initialFocus?: string
}) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  // Layout effects: the dialog closes (and focus goes back) before React removes it from the page.
  useLayoutEffect(() => {
    const d = ref.current
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    if (d && !d.open) d.showModal()
    if (initialFocus) d?.querySelector<HTMLElement>(initialFocus)?.focus()
    return () => {
      d?.close()
      if (opener?.isConnected) opener.focus()
    }
  }, [])
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault()
        onClose()
      }}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  )
}

/**
 * A confirmation in a {@link Dialog}: its content is a form (a reason, a note), `onConfirm` gets the form's data.
 * The confirm button is red (`danger`, the default) for destructive actions.
 */
export function ConfirmDialog({
  title,
  confirmLabel,
  children,
  busy,
  danger = true,
  focusCancel,
  onConfirm,
  onClose,
}: {
  title: string
  confirmLabel: string
  children?: ReactNode
  busy?: boolean
  danger?: boolean
  /** Focus "Cancel" first (a confirmation with nothing to fill in). */
  focusCancel?: boolean
  onConfirm: (data: FormData) => void
  onClose: () => void
}) {
  const { t } = useT()
  return (
    <Dialog title={title} onClose={onClose} {...(focusCancel ? { initialFocus: 'button[data-cancel]' } : {})}>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          onConfirm(new FormData(e.currentTarget))
        }}>
        {children}
        <div className="row actions">
          <button type="submit" className={danger ? 'primary danger' : 'primary'} disabled={busy}>
            {busy ? t('common.working') : confirmLabel}
          </button>
          <button type="button" data-cancel onClick={onClose}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  )
}

/**
 * A yes/no confirmation as a promise: render `node`, then `await ask(message, confirmLabel)` resolves to whether the
 * person confirmed.
 */
export function useConfirm(): [ReactNode, (message: string, confirmLabel?: string) => Promise<boolean>] {
  const { t } = useT()
  const [state, setState] = useState<{ message: string; label?: string | undefined; resolve: (ok: boolean) => void }>()
  const close = (ok: boolean) => {
    state?.resolve(ok)
    setState(undefined)
  }
  const node = state && (
    <ConfirmDialog
      title={t('common.confirmTitle')}
      confirmLabel={state.label ?? t('common.confirm')}
      focusCancel
      onConfirm={() => close(true)}
      onClose={() => close(false)}>
      <p>{state.message}</p>
    </ConfirmDialog>
  )
  const ask = (message: string, label?: string) =>
    new Promise<boolean>((resolve) => setState({ message, label, resolve }))
  return [node, ask]
}
