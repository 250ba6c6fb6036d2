import { useState, type FormEvent, type InputHTMLAttributes } from 'react'
import { useT } from '../i18n.js'
import { FieldError, fieldErrors, invalid } from './Fields.js'

/**
 * An editable table saved as a whole (PUT of `items`): the rows being edited, their changes, the save with its busy
 * state, and the API's problems by row field (`rowError(i, 'years')` for `/body/items/i/years`). `saved` counts the
 * saves since the last change (0 after any edit, so a "saved" notice never stands beside unsaved changes).
 */
export function useRowsEditor<R>(initial: R[] | (() => R[]), save: (rows: R[]) => Promise<R[]>) {
  const { t } = useT()
  const [rows, setRows] = useState<R[]>(initial)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const [saved, setSaved] = useState(0)
  const errors = fieldErrors(error, t)
  const edit = (next: R[]) => {
    setRows(next)
    setSaved(0)
  }
  const submit = (e?: FormEvent) => {
    e?.preventDefault()
    setBusy(true)
    setError(undefined)
    save(rows).then(
      (fresh) => {
        setRows(fresh)
        setBusy(false)
        setSaved((n) => n + 1)
      },
      (err: unknown) => {
        setBusy(false)
        setError(err)
      },
    )
  }
  return {
    rows,
    set: (i: number, patch: Partial<R>) => edit(rows.map((r, j) => (j === i ? { ...r, ...patch } : r))),
    add: (row: R) => edit([...rows, row]),
    remove: (i: number) => edit(rows.filter((_, j) => j !== i)),
    submit,
    busy,
    error,
    errors,
    saved,
    rowError: (i: number, k: string) => errors[`items/${i}/${k}`],
  }
}

/** One input of an editable table's cell: its label (for screen readers only) and its problem from the API. */
export function CellInput({
  id,
  label,
  error,
  ...input
}: { id: string; label: string; error?: string | undefined } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <label htmlFor={id}>
      <span className="sr-only">{label}</span>
      <input id={id} {...input} {...invalid(`${id}-err`, error)} />
      <FieldError id={`${id}-err`} text={error} />
    </label>
  )
}
