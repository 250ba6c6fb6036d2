import { ApiError } from '../api.js'
import type { useT } from '../i18n.js'

/**
 * The API's problems by field, from their JSON Pointers: `/body/uscc` → `uscc`, `/body/items/2/country` →
 * `items/2/country` (other pointers, e.g. `/query/from`, stay whole). Each text is "CODE — message", the message in the
 * user's words where the console has them (`err.<CODE>`).
 */
export function fieldErrors(e: unknown, t: ReturnType<typeof useT>['t']): Record<string, string> {
  const out: Record<string, string> = {}
  if (!(e instanceof ApiError)) return out
  const items = e.body.errors.length
    ? e.body.errors
    : [{ code: e.body.code, message: e.body.message, pointer: e.body.pointer }]
  for (const x of items) {
    if (!x.pointer) continue
    const field = fieldOf(x.pointer)
    const known = t(`err.${x.code}`)
    const text = known === `err.${x.code}` ? x.message : known
    out[field] = out[field] ? `${out[field]}; ${text}` : `${x.code} — ${text}`
  }
  return out
}

/** The key {@link fieldErrors} files a pointer's problem under. */
export const fieldOf = (pointer: string) => (pointer.startsWith('/body/') ? pointer.slice('/body/'.length) : pointer)

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
