/**
 * China's official working calendar and the clock arithmetic of slots. Pure functions over the calendar data.
 *
 * The calendar: public holidays and adjusted working days (调休上班) as published each year by the State Council's
 * notice on holiday arrangements. They come from the `chinese-days` package (MIT, vsme/chinese-days, which tracks the
 * notices) plus {@link CALENDAR_SUPPLEMENT} for a year the installed package does not have yet. To add a year: update
 * the package (`npm update chinese-days`) once it carries the notice (usually published in November for the next
 * year); until then add the notice's days to the supplement below with the notice's number. A year in neither is
 * `known: false`: Monday to Friday are taken as working days and the slots answer says so.
 *
 * Time: China has one time zone with no daylight saving since 1991, so China time is UTC+8 all year.
 */
import { createRequire } from 'node:module'
import type { CalendarDay } from './schema.js'

const require = createRequire(import.meta.url)
const official = require('chinese-days/dist/chinese-days.json') as {
  holidays: Record<string, string>
  workdays: Record<string, string>
}

/** A day of a State Council notice the installed package lacks: a holiday, or a weekend day worked in lieu. */
export interface SupplementDay {
  date: string
  kind: 'holiday' | 'workday'
  /** Holiday name, "中文 / English". */
  name: string
  /** The notice, e.g. "国办发明电〔2025〕7号". */
  source: string
}

/** Days of notices newer than the installed `chinese-days` (empty while the package is current). */
export const CALENDAR_SUPPLEMENT: readonly SupplementDay[] = []

const CHINA_OFFSET_MS = 8 * 3600_000
const HOUR_MS = 3600_000

/** The calendar data, indexed. Built once from the package and the supplement; tests may build their own. */
export interface Calendar {
  day(date: string): CalendarDay
  /** Years the data covers. */
  years: ReadonlySet<number>
}

/** "National Day,国庆节,3" (the package's form) → "国庆节 / National Day". */
function holidayName(raw: string): string {
  const [en, zh] = raw.split(',')
  return zh && en ? `${zh} / ${en}` : raw
}

export function buildCalendar(supplement: readonly SupplementDay[] = CALENDAR_SUPPLEMENT): Calendar {
  const holidays = new Map<string, string>()
  const workdays = new Set<string>()
  for (const [date, name] of Object.entries(official.holidays)) holidays.set(date, holidayName(name))
  for (const date of Object.keys(official.workdays)) workdays.add(date)
  for (const d of supplement) {
    if (d.kind === 'holiday') holidays.set(d.date, d.name)
    else workdays.add(d.date)
  }
  const years = new Set<number>()
  for (const date of [...holidays.keys(), ...workdays]) years.add(Number(date.slice(0, 4)))
  return {
    years,
    day(date: string): CalendarDay {
      const holiday = holidays.get(date) ?? null
      const adjustedWorkday = workdays.has(date)
      const dow = new Date(`${date}T00:00:00Z`).getUTCDay()
      const weekend = dow === 0 || dow === 6
      return {
        date,
        workday: holiday ? false : adjustedWorkday || !weekend,
        holiday,
        adjustedWorkday,
        known: years.has(Number(date.slice(0, 4))),
      }
    },
  }
}

let shared: Calendar | undefined
/** The calendar of the installed data (built on first use). */
export const officialCalendar = (): Calendar => (shared ??= buildCalendar())

/** The UTC instant a China date and hour begins. */
export function slotStart(date: string, hour: number): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) + hour * HOUR_MS - CHINA_OFFSET_MS)
}

/** The China date and hour of a UTC instant. */
export function chinaDateHour(at: Date): { date: string; hour: number } {
  const local = new Date(at.getTime() + CHINA_OFFSET_MS)
  return { date: local.toISOString().slice(0, 10), hour: local.getUTCHours() }
}

/** A China date `days` after another. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 24 * HOUR_MS).toISOString().slice(0, 10)
}

/** Whether a real calendar date (YYYY-MM-DD that exists). */
export const isDate = (date: string) =>
  /^\d{4}-\d{2}-\d{2}$/.test(date) && new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) === date

/** Office hours of a site: whole China hours [open, close) on working days. */
export interface OfficeHours {
  open: number
  close: number
}

/** Whether an hour of a day falls in office hours (bookings are only for hours outside them). */
export const inOfficeHours = (day: CalendarDay, hour: number, hours: OfficeHours) =>
  day.workday && hour >= hours.open && hour < hours.close

/** Lead time a booking needs: 8 h for advanced-certified (AEO) enterprises, 24 h otherwise. */
export const leadHours = (creditLevel: string) => (creditLevel === 'ADVANCED_CERTIFIED' ? 8 : 24)

/** "2026-12-09 22:00–23:00 (Asia/Shanghai)". */
export function localSlot(start: Date): string {
  const { date, hour } = chinaDateHour(start)
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00`
  return `${date} ${hh(hour)}–${hh((hour + 1) % 24 === 0 ? 24 : hour + 1)} (Asia/Shanghai)`
}
