#!/usr/bin/env node
/**
 * Generates reference-data/kouan/countries.csv: China's old 3-digit customs country codes
 * (trading-partners lists) mapped to ISO 3166-1, plus every ISO country that has no China code.
 *
 * Dev tool only: reads ../shared, which the platform itself must never read.
 * Usage: node scripts/gen-countries.mjs [path/to/shared/reference]
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'csv-parse/sync'
import countries from 'i18n-iso-countries'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const shared = resolve(process.argv[2] ?? join(root, '..', 'shared', 'reference'))
const out = join(root, 'reference-data', 'kouan', 'countries.csv')

/**
 * China codes whose English name i18n-iso-countries does not recognise.
 * `null` = deliberately no ISO country: "nes" buckets, historic or split entities, and islands that
 * are only part of an ISO country which already has its own China code (Saba → BQ via 409 Bonaire,
 * the French Polynesian archipelagos → PF via 623), so each ISO code maps back to one China code.
 */
const OVERRIDES = {
  105: 'BN', // Brunei
  119: 'LA', // Laos
  121: 'MO', // Macau
  135: 'SY', // Syria
  144: 'TL', // East Timor
  237: 'RE', // Réunion
  239: 'ST', // São Tomé and Príncipe
  343: 'MD', // Moldova
  356: 'VA', // Vatican City State
  409: 'BQ', // Bonaire (ISO: Bonaire, Sint Eustatius and Saba)
  446: 'VG', // British Virgin Islands
  620: 'FM', // Federated States of Micronesia
  199: null, // Other Asia nes
  207: null, // Canary Islands: part of ES; IC is only an exceptional reservation
  210: null, // Ceuta: part of ES; EA is only an exceptional reservation
  256: null, // Melilla: as Ceuta
  299: null, // Other Africa nes
  349: null, // Serbia and Montenegro: historic (CS withdrawn 2006)
  399: null, // Other Europe nes
  436: null, // Saba: part of BQ, which 409 Bonaire carries
  438: null, // Saint Martin Islands: split between MF (France) and SX (Netherlands)
  449: null, // Netherlands Antilles: historic (AN withdrawn 2010)
  499: null, // Other Latin America nes
  599: null, // Other North America nes
  604: null, // Gambier Islands: part of PF
  605: null, // Marquesas Islands: part of PF
  612: null, // Society Islands: part of PF
  615: null, // Tuamotus: part of PF
  616: null, // Tubuai: part of PF
  699: null, // Other Oceania nes
  701: null, // Countries (regions) unknown
  702: null, // UN and other international organizations
  999: null, // Neutral package (abolished 2008)
}

/** Codes DOMAIN.md §2 names explicitly; the run fails if the map disagrees. Public tables get some wrong. */
const EXPECTED = {
  142: 'CN',
  110: 'HK',
  116: 'JP',
  133: 'KR',
  303: 'GB',
  304: 'DE',
  305: 'FR',
  344: 'RU',
  502: 'US',
  601: 'AU',
  609: 'NZ',
  701: null,
}

/** i18n-iso-countries includes Kosovo (XK/XKK), a user-assigned code outside ISO 3166-1. */
const NOT_ISO = new Set(['XK'])

function readCsv(file) {
  const text = readFileSync(join(shared, file), 'utf8').replace(/\0/g, '')
  return parse(text, { columns: true, bom: true, skip_empty_lines: true, trim: true })
}

function csvField(value) {
  const s = value ?? ''
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

const zhByCode = new Map(readCsv('china/zh-trading-partners.csv').map((r) => [r.code, r.zh]))
const rows = []
const seenIso = new Map()
const problems = []

for (const { code, en } of readCsv('china/en-trading-partners.csv')) {
  const iso2 = code in OVERRIDES ? OVERRIDES[code] : (countries.getAlpha2Code(en, 'en') ?? undefined)
  if (iso2 === undefined) {
    problems.push(`${code} ${en}: no ISO match and no override`)
    continue
  }
  if (code in EXPECTED && EXPECTED[code] !== iso2) {
    problems.push(`${code} ${en}: mapped to ${iso2}, expected ${EXPECTED[code]}`)
  }
  if (iso2 !== null) {
    if (seenIso.has(iso2)) problems.push(`${iso2} used by both ${seenIso.get(iso2)} and ${code}`)
    seenIso.set(iso2, code)
  }
  rows.push({
    iso2: iso2 ?? '',
    iso3: iso2 ? countries.alpha2ToAlpha3(iso2) : '',
    china_code: code,
    name_en: en,
    name_zh: zhByCode.get(code) ?? '',
  })
}
if (zhByCode.size !== rows.length) problems.push(`zh list has ${zhByCode.size} codes, en list ${rows.length}`)

const isoOnly = Object.keys(countries.getAlpha2Codes())
  .filter((iso2) => !seenIso.has(iso2) && !NOT_ISO.has(iso2))
  .sort()
  .map((iso2) => ({
    iso2,
    iso3: countries.alpha2ToAlpha3(iso2),
    china_code: '',
    name_en: countries.getName(iso2, 'en'),
    name_zh: countries.getName(iso2, 'zh') ?? '',
  }))

if (problems.length > 0) {
  console.error(problems.join('\n'))
  process.exit(1)
}

const columns = ['iso2', 'iso3', 'china_code', 'name_en', 'name_zh']
const lines = [columns.join(','), ...[...rows, ...isoOnly].map((r) => columns.map((c) => csvField(r[c])).join(','))]
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, lines.join('\n') + '\n')
console.log(
  `${out}: ${rows.length} China codes (${rows.filter((r) => r.iso2).length} with ISO), ${isoOnly.length} ISO-only`,
)
