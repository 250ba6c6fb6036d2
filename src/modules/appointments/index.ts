/**
 * Appointment clearance (预约通关): bookings of customs service outside office hours, hourly slots with exact
 * capacity, officers' review, the official calendar.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { buildCalendar, chinaDateHour, officialCalendar, slotStart } from './calendar.js'
export type { Calendar } from './calendar.js'
export { APPOINTMENT_STATUSES, CATEGORIES } from './schema.js'
export type { Appointment, AppointmentStatus, Category, CreateAppointment } from './schema.js'
