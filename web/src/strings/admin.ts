/** Strings of the admin area's screens, [zh, en] as in i18n.ts (merged there). */
export const STRINGS = {} as const satisfies Record<string, readonly [string, string]>
