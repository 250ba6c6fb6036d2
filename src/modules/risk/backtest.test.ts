import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { backtest } from './backtest.js'
import { readKcs } from './kcs.js'
import { RiskModel } from './model.js'

const ROOT = join(import.meta.dirname, '..', '..', '..')
const FIX = join(ROOT, 'test', 'fixtures', 'kcs')

describe('backtest on a slice of the KCS data', () => {
  const train = readKcs(join(FIX, 'train.csv'))
  const valid = readKcs(join(FIX, 'valid.csv'))
  const test = readKcs(join(FIX, 'test.csv'))

  it('ranks the test quarter far better than random, and the model survives a JSON round trip', () => {
    const logs: string[] = []
    const r = backtest({ train, valid, test, log: (m) => logs.push(m) })
    expect(r.rows).toBe(test.length)
    expect(r.randomPrecision).toBeCloseTo(test.filter((t) => t.label.fraud).length / test.length, 3)
    // On a ninth of the data the features are thin; still the ranking must beat random by a wide margin.
    expect(r.precisionAt['0.1']!).toBeGreaterThan(r.randomPrecision + 0.2)
    expect(r.recallAt['0.1']!).toBeGreaterThan(0.1)
    expect(Object.keys(r.precisionAt)).toEqual(['0.01', '0.02', '0.05', '0.1'])
    expect(logs.some((l) => /round \d+/.test(l))).toBe(true)
    const copy = RiskModel.fromJSON(JSON.parse(JSON.stringify(r.model.toJSON())))
    const row = new Float32Array(r.features).map((_, i) => (i % 7) - 1)
    expect(copy.score(row)).toBe(r.model.score(row))
  })

  it('is deterministic for a seed', () => {
    const a = backtest({ train: train.slice(0, 1500), valid: valid.slice(0, 400), test: test.slice(0, 400), seed: 3 })
    const b = backtest({ train: train.slice(0, 1500), valid: valid.slice(0, 400), test: test.slice(0, 400), seed: 3 })
    expect(JSON.stringify(a.model.toJSON())).toBe(JSON.stringify(b.model.toJSON()))
    expect(a.precisionAt).toEqual(b.precisionAt)
  })

  it('prints one JSON line on stdout and progress on stderr from the CLI', () => {
    const res = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src', 'cli.ts'),
        'risk',
        'backtest',
        '--format',
        'kcs',
        '--train',
        join(FIX, 'train.csv'),
        '--valid',
        join(FIX, 'valid.csv'),
        '--test',
        join(FIX, 'test.csv'),
        '--json',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    )
    expect(res.status).toBe(0)
    const lines = res.stdout.trim().split('\n')
    expect(lines).toHaveLength(1)
    const out = JSON.parse(lines[0]!)
    expect(out).toMatchObject({
      rows: test.length,
      precisionAt: expect.any(Object),
      recallAt: expect.any(Object),
      criticalRecallAt: expect.any(Object),
    })
    expect(out.trainSeconds).toBeGreaterThan(0)
    expect(out.scoreP99Ms).toBeGreaterThan(0)
    expect(res.stderr).toMatch(/round \d+/)
  })

  it('fails with the row and column of bad input', () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'kouan-kcs-')), 'bad.csv')
    writeFileSync(bad, readFileSync(join(FIX, 'valid.csv'), 'utf8').replace(/^Declaration ID,/, 'Declaration,'))
    const res = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src', 'cli.ts'),
        'risk',
        'backtest',
        '--train',
        bad,
        '--valid',
        join(FIX, 'valid.csv'),
        '--test',
        join(FIX, 'test.csv'),
      ],
      { cwd: ROOT, encoding: 'utf8' },
    )
    expect(res.status).not.toBe(0)
    expect(res.stderr).toContain('bad.csv: row 1, column "Declaration ID": missing column "Declaration ID"')
    expect(res.stdout).toBe('')
  })
})
