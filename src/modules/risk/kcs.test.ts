import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DatasetError, KCS_COLUMNS, readJsonl, readKcs } from './kcs.js'

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'kcs')
const header = KCS_COLUMNS.join(',')
const good = '97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,0VKY2BR,,440890,BE,BE,0.0,FEU1,G,108.0,372254.4,0,0'

describe('reading KCS data', () => {
  it('reads the shipped slice with labels apart from the record', () => {
    const rows = readKcs(join(FIXTURES, 'train.csv'))
    expect(rows.length).toBe(3195)
    expect(rows[0]!.record).toMatchObject({ id: expect.any(String), hs: expect.stringMatching(/^\d{6}$/) })
    expect(rows[0]!.record).not.toHaveProperty('fraud')
    const rate = rows.filter((r) => r.label.fraud).length / rows.length
    expect(rate).toBeGreaterThan(0.15)
    expect(rate).toBeLessThan(0.3)
  })

  it('maps Critical Fraud = 2 to critical and keeps empty sellers as empty codes', () => {
    const rows = readKcs('x.csv', `${header}\n${good.replace(/,0,0$/, ',1,2')}\n${good}\n`)
    expect(rows.map((r) => r.label)).toEqual([
      { fraud: 1, critical: 1 },
      { fraud: 0, critical: 0 },
    ])
    expect(rows[0]!.record.courier).toBe('')
  })

  it('names the missing column', () => {
    const text = `${header.replace(',Net Mass', '')}\n`
    expect(() => readKcs('data.csv', text)).toThrow(DatasetError)
    expect(() => readKcs('data.csv', text)).toThrow('data.csv: row 1, column "Net Mass": missing column "Net Mass"')
  })

  it('names the row and column of an unparseable value', () => {
    const bad = good.replace(',108.0,', ',lots,')
    expect(() => readKcs('data.csv', `${header}\n${good}\n${bad}\n`)).toThrow(
      'data.csv: row 3, column "Net Mass": not a number: "lots"',
    )
    expect(() => readKcs('data.csv', `${header}\n${good.replace('2020-01-01', '2020-13-45')}\n`)).toThrow(
      /row 2, column "Date"/,
    )
    expect(() => readKcs('data.csv', `${header}\n${good.replace(/,0,0$/, ',yes,0')}\n`)).toThrow(
      /row 2, column "Fraud": must be 0 or 1/,
    )
  })

  it('names the row of a line with the wrong number of fields', () => {
    expect(() => readKcs('data.csv', `${header}\n${good},extra\n`)).toThrow(/row 2: 23 fields, the header has 22/)
  })

  it('reads JSON lines and names the bad line', () => {
    const line = JSON.stringify({
      id: 'a/1',
      date: '2025-01-02',
      hs: '0808100000',
      fraud: 1,
      critical: 0,
      value: 10,
      netMassKg: 2,
    })
    expect(readJsonl('d.jsonl', `${line}\n`)[0]!.record).toMatchObject({ hs: '0808100000', value: 10 })
    expect(() => readJsonl('d.jsonl', `${line}\n{oops\n`)).toThrow(/d.jsonl: row 2: not JSON/)
    expect(() => readJsonl('d.jsonl', JSON.stringify({ date: '2025-01-02', hs: '12', fraud: 0 }))).toThrow(
      /row 1, column "hs"/,
    )
  })
})
