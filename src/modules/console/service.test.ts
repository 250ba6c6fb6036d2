import { describe, expect, it } from 'vitest'
import { chinaDayStart, detectSpikes, fillMinutes, hitRateSeries, modelDropAlert, priorityOf } from './service.js'
import { DashboardFeed } from './feed.js'

describe('chinaDayStart', () => {
  it('is 16:00 UTC of the previous day for any instant of the China day', () => {
    expect(chinaDayStart(new Date('2026-05-11T01:00:00Z')).toISOString()).toBe('2026-05-10T16:00:00.000Z')
    expect(chinaDayStart(new Date('2026-05-10T16:00:00Z')).toISOString()).toBe('2026-05-10T16:00:00.000Z')
    expect(chinaDayStart(new Date('2026-05-10T15:59:59Z')).toISOString()).toBe('2026-05-09T16:00:00.000Z')
  })
})

describe('fillMinutes', () => {
  it('returns every minute of the window, the current one last, zero where nothing happened', () => {
    const now = new Date('2026-05-11T01:00:30Z')
    const out = fillMinutes(
      now,
      3,
      [{ minute: '2026-05-11T00:59:00.000Z', declarations: 4, intercepts: 1 }],
      [{ minute: '2026-05-11T01:00:00.000Z', tickets: 7 }],
    )
    expect(out).toEqual([
      { minute: '2026-05-11T00:58:00.000Z', declarations: 0, intercepts: 0, cebTickets: 0 },
      { minute: '2026-05-11T00:59:00.000Z', declarations: 4, intercepts: 1, cebTickets: 0 },
      { minute: '2026-05-11T01:00:00.000Z', declarations: 0, intercepts: 0, cebTickets: 7 },
    ])
  })
})

describe('hitRateSeries', () => {
  it('splits targeted and random per bucket, totals the window and gives the lift in points', () => {
    const now = new Date('2026-05-11T01:05:00Z')
    const h = hitRateSeries(now, 10, 2, [
      { bucket: '2026-05-11T00:50:00.000Z', random: false, inspected: 4, nonCompliant: 2 },
      { bucket: '2026-05-11T01:00:00.000Z', random: false, inspected: 6, nonCompliant: 4 },
      { bucket: '2026-05-11T01:00:00.000Z', random: true, inspected: 10, nonCompliant: 1 },
    ])
    expect(h.series).toEqual([
      {
        bucket: '2026-05-11T00:50:00.000Z',
        targetedInspected: 4,
        targetedHitRate: 0.5,
        randomInspected: 0,
        randomHitRate: null,
      },
      {
        bucket: '2026-05-11T01:00:00.000Z',
        targetedInspected: 6,
        targetedHitRate: 0.6667,
        randomInspected: 10,
        randomHitRate: 0.1,
      },
    ])
    expect(h.targeted).toEqual({ inspected: 10, nonCompliant: 6, hitRate: 0.6 })
    expect(h.random).toEqual({ inspected: 10, nonCompliant: 1, hitRate: 0.1 })
    expect(h.liftPp).toBe(50)
  })
  it('has no lift without a random control group', () => {
    expect(hitRateSeries(new Date(), 10, 1, []).liftPp).toBeNull()
  })
})

describe('detectSpikes', () => {
  const o = { minCount: 10, factor: 3, minBaseline: 100 }
  // A steady mix: 100 items in the baseline hour, 50 in the last ten minutes (traffic doubled overall).
  const steady = [
    { key: '610910', recent: 30, before: 60 },
    { key: '940360', recent: 20, before: 40 },
  ]
  it('flags a key that grows faster than the traffic as a whole, critical at twice the factor', () => {
    const alerts = detectSpikes(
      'HS_SPIKE',
      [
        ...steady,
        { key: '851713', recent: 40, before: 2 }, // share 2/112 of the baseline → expected 1.82 of the 102 recent items
        { key: '080810', recent: 12, before: 10 }, // expected 9.1: normal
      ],
      o,
    )
    expect(alerts).toEqual([{ kind: 'HS_SPIKE', severity: 'CRITICAL', key: '851713', recent: 40, baseline: 1.82 }])
  })
  it('raises nothing when all traffic grows together, or before there is a baseline to compare with', () => {
    expect(
      detectSpikes(
        'HS_SPIKE',
        steady.map((r) => ({ ...r, recent: r.recent * 5 })),
        o,
      ),
    ).toEqual([])
    expect(
      detectSpikes(
        'HS_SPIKE',
        [
          { key: '851713', recent: 300, before: 0 },
          { key: '610910', recent: 30, before: 60 },
        ],
        o,
      ),
    ).toEqual([])
  })
  it('treats a key never seen before as expected once, keeps the importer name, warns below twice the factor', () => {
    expect(
      detectSpikes(
        'IMPORTER_SPIKE',
        [
          { key: 'BASE', label: 'Usual', recent: 10, before: 100 },
          { key: '4403000001', label: 'Acme', recent: 10, before: 0 }, // expected < 1 counts as 1 → 10×
          { key: '4403000002', label: 'Bcme', recent: 12, before: 25 }, // expected 25/125 × 32 = 6.4 → below 3×
        ],
        o,
      ),
    ).toEqual([
      { kind: 'IMPORTER_SPIKE', severity: 'CRITICAL', key: '4403000001', label: 'Acme', recent: 10, baseline: 0 },
    ])
    expect(
      detectSpikes(
        'IMPORTER_SPIKE',
        [
          { key: 'BASE', recent: 20, before: 200 },
          { key: '4403000003', label: 'Ccme', recent: 10, before: 4 }, // expected 4/204 × 30 = 0.59 → 1 → 10×
          { key: '4403000004', label: 'Dcme', recent: 10, before: 14 }, // expected 14/214 × 30 ≈ 2.0 → 5×: warning
        ],
        o,
      ).map((a) => [a.key, a.severity]),
    ).toEqual([
      ['4403000003', 'CRITICAL'],
      ['4403000004', 'WARNING'],
    ])
  })
})

describe('modelDropAlert', () => {
  it('alerts when the recent hit rate is 15 points or more below the baseline, on enough inspections', () => {
    expect(modelDropAlert({ inspected: 20, nonCompliant: 4 }, { inspected: 100, nonCompliant: 40 }, 3)).toEqual({
      kind: 'MODEL_HIT_RATE_DROP',
      severity: 'WARNING',
      key: 'v3',
      recent: 0.2,
      baseline: 0.4,
    })
    expect(modelDropAlert({ inspected: 20, nonCompliant: 0 }, { inspected: 100, nonCompliant: 40 }, 3)?.severity).toBe(
      'CRITICAL',
    )
  })
  it('stays quiet on a small drop or too few inspections', () => {
    expect(modelDropAlert({ inspected: 20, nonCompliant: 6 }, { inspected: 100, nonCompliant: 40 }, 3)).toBeUndefined()
    expect(modelDropAlert({ inspected: 19, nonCompliant: 0 }, { inspected: 100, nonCompliant: 40 }, 3)).toBeUndefined()
  })
})

describe('priorityOf', () => {
  it('puts targeted physical inspections and high scores first, low-score document checks last', () => {
    expect(priorityOf('PHYSICAL', 'MODEL', 10)).toBe('HIGH')
    expect(priorityOf('DOCUMENT', 'RULE', 80)).toBe('HIGH')
    expect(priorityOf('PHYSICAL', 'RANDOM', 5)).toBe('MEDIUM')
    expect(priorityOf('DOCUMENT', 'CREDIT', 40)).toBe('MEDIUM')
    expect(priorityOf('DOCUMENT', 'MODEL', 25)).toBe('LOW')
  })
})

describe('DashboardFeed', () => {
  it('computes once per tick for all subscribers, serves the fresh snapshot to a newcomer, and stops when the last leaves', async () => {
    let builds = 0
    let t = 0
    const feed = new DashboardFeed(
      async () => ({ n: ++builds }),
      60_000,
      () => t,
      () => {},
    )
    const a: string[] = []
    const b: string[] = []
    const offA = feed.subscribe({ send: (j) => a.push(j), end: () => {} })
    await feed.tick()
    feed.subscribe({ send: (j) => b.push(j), end: () => {} })
    expect(builds).toBe(1)
    expect(a).toEqual(['{"n":1}'])
    expect(b).toEqual(['{"n":1}'])
    t = 60_000
    await feed.tick()
    expect(a).toEqual(['{"n":1}', '{"n":2}'])
    offA()
    expect(feed.subscribers).toBe(1)
    // A screen opened 10 s after the last snapshot sees it at once, then a fresh one.
    t = 70_000
    const c: string[] = []
    feed.subscribe({ send: (j) => c.push(j), end: () => {} })
    expect(c).toEqual(['{"n":2}'])
    await feed.tick()
    expect(c).toEqual(['{"n":2}', '{"n":3}'])
    let ended = 0
    feed.subscribe({
      send: () => {},
      end: () => {
        ended++
      },
    })
    feed.close()
    expect(ended).toBe(1)
    expect(feed.subscribers).toBe(0)
  })
})
