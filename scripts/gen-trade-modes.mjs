#!/usr/bin/env node
/**
 * Generates reference-data/kouan/trade-modes.csv: the 4-digit trade modes (监管方式) named in
 * DOMAIN.md §2 and §7, with their 2-digit statistical code (the last two digits).
 *
 * Names come only from sources, never from memory:
 * - name_zh: reference-data/ceb/code_tables.csv; empty where that table has no row.
 * - name_en: the English wording DOMAIN.md gives for the mode, else the statistical regime's name
 *   (reference-data/china/en-CustomsRegime.csv) for the last two digits, else empty.
 *
 * Usage: node scripts/gen-trade-modes.mjs
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'csv-parse/sync'

const data = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'reference-data')

const CODES = `0110 0130 0200 0214 0245 0255 0258 0265 0300 0314 0320 0345 0400 0420 0444 0445 0446 0456 0466
  0500 0513 0544 0545 0615 0642 0644 0654 0657 0664 0700 0715 0744 0844 0845 0864 0865 1210 1233 1239 1300
  1427 1523 2025 2225 2600 2700 3010 3100 4400 4500 4561 4600 5014 5015 9610 9710 9739 9810 9900`
  .trim()
  .split(/\s+/)

/**
 * DOMAIN.md §2/§7 wording, and for the CBEC modes an English rendering of the code_tables.csv name.
 * Preferred over the regime name because many modes share a statistical code with unrelated trade
 * (1210 and 9610 count as 10 "Ordinary Trade").
 */
const DOMAIN_EN = {
  '0110': 'General trade',
  '0214': 'Processing trade with supplied materials',
  '0320': 'No-price equipment',
  '0500': 'Transfer of duty-exempt equipment',
  '0615': 'Processing trade with imported materials',
  '0715': 'Processing trade with imported materials',
  1210: 'Bonded cross-border e-commerce (online bonded import)',
  1239: 'Bonded cross-border e-commerce A (online bonded import outside the pilot cities, from 2016-12-01)',
  2025: 'Investment equipment',
  2225: 'Investment equipment',
  9610: 'Cross-border e-commerce (direct purchase import / retail export)',
  9710: 'Cross-border e-commerce B2B direct export',
  9810: 'Cross-border e-commerce export to overseas warehouse',
}

const read = (file) =>
  parse(readFileSync(join(data, file), 'utf8'), { bom: true, relax_column_count: true, skip_empty_lines: true })

const zh = new Map(
  read('ceb/code_tables.csv')
    .filter(([table]) => table === 'trade_mode_监管方式')
    .map(([, code, name]) => [code, name]),
)
const regimeEn = new Map(
  read('china/en-CustomsRegime.csv')
    .slice(1)
    .map(([code, name]) => [code, name]),
)

const csvField = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)
const lines = ['code,stat_code,name_zh,name_en']
for (const code of CODES) {
  const stat = code.slice(2)
  const nameEn = DOMAIN_EN[code] ?? regimeEn.get(stat) ?? ''
  lines.push([code, stat, zh.get(code) ?? '', nameEn].map(csvField).join(','))
}
const missing = [...zh.keys()].filter((c) => !CODES.includes(c))
if (missing.length > 0) throw new Error(`code_tables.csv trade modes not in the list: ${missing.join(' ')}`)

writeFileSync(join(data, 'kouan', 'trade-modes.csv'), lines.join('\n') + '\n')
console.log(`${CODES.length} trade modes, ${zh.size} with a Chinese name`)
