import type { Lang } from './explain.js'

/** Date and time in China time (legal times are China times), e.g. 2026-05-11 09:00:00. */
export function chinaTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(new Date(iso).getTime() + 8 * 3600_000)
  return d.toISOString().slice(0, 19).replace('T', ' ')
}

/** A China date (YYYY-MM-DD) as the UTC instant its day starts (China time, UTC+8). */
export const chinaDayStart = (day: string) => new Date(Date.parse(`${day}T00:00:00+08:00`)).toISOString()
/** The UTC instant the China day after `day` starts (an inclusive "to" date as an exclusive bound). */
export const chinaDayEnd = (day: string) => new Date(Date.parse(`${day}T00:00:00+08:00`) + 86_400_000).toISOString()

export const hhmm = (iso: string) => chinaTime(iso).slice(11, 16)

export function percent(v: number | null | undefined, dp = 1): string {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(dp)}%`
}

/** Seconds as a short duration: 45 s, 12 min, 3.5 h, 2.1 d. */
export function duration(s: number, lang: Lang): string {
  const zh = lang === 'zh'
  if (s < 90) return zh ? `${Math.round(s)} 秒` : `${Math.round(s)} s`
  if (s < 5400) return zh ? `${Math.round(s / 60)} 分钟` : `${Math.round(s / 60)} min`
  if (s < 172_800) return zh ? `${(s / 3600).toFixed(1)} 小时` : `${(s / 3600).toFixed(1)} h`
  return zh ? `${(s / 86_400).toFixed(1)} 天` : `${(s / 86_400).toFixed(1)} d`
}

export const int = (n: number) => n.toLocaleString('en-US')

/** What a QR code carries: the token itself, or a verify URL ending in /verify/<token>. */
export function tokenOf(input: string): string {
  const s = input.trim()
  const m = /\/verify\/([^?#\s]+)/.exec(s)
  return m ? decodeURIComponent(m[1]!) : s
}
