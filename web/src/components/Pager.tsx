import { useT } from '../i18n.js'

/** Previous / next for offset paging (`offset` in the URL query); hidden when everything fits on one page. */
export function Pager({
  offset,
  total,
  page,
  onChange,
}: {
  offset: number
  total: number
  page: number
  onChange: (o: number) => void
}) {
  const { t } = useT()
  if (total <= page) return null
  return (
    <nav className="pager" aria-label={t('common.pager')}>
      <button type="button" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - page))}>
        {t('common.prev')}
      </button>
      <span>{t('common.page', { page: Math.floor(offset / page) + 1, total })}</span>
      <button type="button" disabled={offset + page >= total} onClick={() => onChange(offset + page)}>
        {t('common.next')}
      </button>
    </nav>
  )
}
