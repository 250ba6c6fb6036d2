import type { PageDef } from './registry.js'

/**
 * The area screens the navigation lists, handed over by main.tsx at start (setAreaPages). Layout reads them here
 * rather than importing pages/all.ts, whose screens import Layout: that import made a cycle.
 */
let pages: PageDef[] = []
export function setAreaPages(list: PageDef[]) {
  pages = list
}
export const areaPages = (): PageDef[] => pages
