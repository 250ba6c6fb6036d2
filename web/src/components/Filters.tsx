import type { ReactNode } from 'react'
import { useQuery } from '../router.js'

/**
 * A search form over URL query parameters (deep links): its fields' `name`s are the parameters in `names`, shown
 * with the URL's values (`defaultValue={get(name)}`); submitting sets them (trimmed, empty ones removed) and goes back
 * to the first page. It is keyed by those values, so Back / Forward shows them in the fields too.
 */
export function QueryFilters({
  names,
  label,
  className = 'card-panel row',
  children,
}: {
  names: readonly string[]
  label?: string | undefined
  className?: string
  children: ReactNode
}) {
  const { get, set } = useQuery()
  return (
    <form
      key={names.map(get).join('|')}
      className={className}
      role="search"
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault()
        const f = new FormData(e.currentTarget)
        set(Object.fromEntries(names.map((n) => [n, String(f.get(n) ?? '').trim()])))
      }}>
      {children}
    </form>
  )
}

/** A from / to pair of date fields for {@link QueryFilters} (China dates; named `from` and `to` unless told). */
export function DateRange({
  fromLabel,
  toLabel,
  from = 'from',
  to = 'to',
}: {
  fromLabel: string
  toLabel: string
  from?: string
  to?: string
}) {
  const { get } = useQuery()
  return (
    <>
      <label>
        {fromLabel}
        <input type="date" name={from} defaultValue={get(from)} />
      </label>
      <label>
        {toLabel}
        <input type="date" name={to} defaultValue={get(to)} />
      </label>
    </>
  )
}
