import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { Lane } from '../declarations/schema.js'
import type { CreditLevel } from '../enterprises/schema.js'
import { DEFAULT_PARAMS, LaneWindow, decide, randomDraw, ruleFires, type Facts } from './engine.js'
import type { Action, Condition, Params, Rule } from './schema.js'

// Hand-built facts: a general-trade import of US apples and Chinese phones, in CNY.
const APPLES = {
  hsCode: '0808100000',
  originCountry: 'USA',
  unit: '035',
  quantity: 1200,
  unitValueCny: 8.875,
  itemValueCny: 10650,
  description: 'Fresh apples',
}
const PHONES = {
  hsCode: '8517130000',
  originCountry: 'CHN',
  unit: '001',
  quantity: 10,
  unitValueCny: 2133.55,
  itemValueCny: 21335.5,
  description: 'Smartphones',
}
const facts = (over: Partial<Facts> = {}): Facts => ({
  header: {
    ieFlag: 'I',
    tradeMode: '0110',
    transportMode: '2',
    tradeCountry: 'USA',
    customsDistrict: '5301',
    iePort: '5302',
    currency: 'USD',
    totalValueCny: 31985.5,
    packages: 10,
    itemCount: 2,
  },
  items: [APPLES, PHONES],
  traderCredit: 'REGULAR',
  ...over,
})

let ruleNo = 0
const rule = (conditions: Condition[], action: Action, over: Partial<Rule> = {}): Rule => {
  const n = ++ruleNo
  return {
    id: `rule-${n}`,
    name: `rule-${n}`,
    description: '',
    conditions,
    action,
    active: true,
    createdBy: 'user:a',
    activatedBy: 'user:b',
    createdAt: '2026-05-01T00:00:00.000Z',
    updatedAt: '2026-05-01T00:00:00.000Z',
    ...over,
  }
}
const c = (field: Condition['field'], op: Condition['op'], value: Condition['value']): Condition => ({
  field,
  op,
  value,
})

/** Default parameters without the random draw, so each case tests one mechanism. */
const params = (over: Partial<Params> = {}): Params => ({
  ...DEFAULT_PARAMS,
  minRandomRate: 0,
  explorationRate: 0,
  ...over,
})

/** A window whose last `size` score lanes hold `red` REDs, `yellow` YELLOWs, the rest GREEN. */
function windowWith(size: number, red: number, yellow = 0): LaneWindow {
  const w = new LaneWindow(size)
  for (let i = 0; i < size; i++) w.push(i < red ? 'RED' : i < red + yellow ? 'YELLOW' : 'GREEN')
  return w
}

const run = (
  opts: {
    facts?: Facts
    rules?: Rule[]
    params?: Params
    window?: LaneWindow
    modelScore?: number
    declarationId?: string
    credit?: CreditLevel
  } = {},
) =>
  decide({
    facts: opts.facts ?? facts(opts.credit ? { traderCredit: opts.credit } : {}),
    rules: opts.rules ?? [],
    params: opts.params ?? params(),
    paramsVersion: 7,
    declarationId: opts.declarationId ?? 'decl-1',
    window: opts.window ?? new LaneWindow(1000),
    ...(opts.modelScore === undefined ? {} : { model: { score: opts.modelScore, version: 1, reasons: [] } }),
  })
const codes = (d: { reasons: Array<{ code: string }> }) => d.reasons.map((r) => r.code)

/** Ids whose draw under the default seed falls below / above the 2% random rate (found by search, deterministic). */
const idWhere = (pred: (x: number) => boolean) => {
  for (let i = 0; ; i++) if (pred(randomDraw(DEFAULT_PARAMS.randomSeed, `decl-${i}`))) return `decl-${i}`
}
const PICKED = idWhere((x) => x < DEFAULT_PARAMS.minRandomRate)
const NOT_PICKED = idWhere((x) => x >= DEFAULT_PARAMS.minRandomRate)

describe('ruleFires', () => {
  it('fires when every header condition holds', () => {
    expect(
      ruleFires(
        rule([c('tradeCountry', 'eq', 'USA'), c('tradeMode', 'in', ['0110', '0130'])], { lane: 'RED' }),
        facts(),
      ),
    ).toBe(true)
    expect(
      ruleFires(rule([c('tradeCountry', 'eq', 'USA'), c('tradeMode', 'in', ['9610'])], { lane: 'RED' }), facts()),
    ).toBe(false)
  })

  it('requires all item conditions to hold on the same item', () => {
    // Apples are from the USA and phones from China: no single item is Chinese apples.
    expect(
      ruleFires(rule([c('hsCode', 'prefix', '0808'), c('originCountry', 'eq', 'CHN')], { lane: 'RED' }), facts()),
    ).toBe(false)
    expect(
      ruleFires(rule([c('hsCode', 'prefix', '0808'), c('originCountry', 'eq', 'USA')], { lane: 'RED' }), facts()),
    ).toBe(true)
    expect(
      ruleFires(
        rule([c('hsCode', 'prefix', '0808'), c('originCountry', 'eq', 'CHN')], { lane: 'RED' }),
        facts({ items: [{ ...APPLES, originCountry: 'CHN' }] }),
      ),
    ).toBe(true)
  })

  it('combines header and item conditions (the DOMAIN "apples-US" rule)', () => {
    const applesUs = rule([c('hsCode', 'prefix', '080810'), c('originCountry', 'eq', 'USA'), c('ieFlag', 'eq', 'I')], {
      lane: 'RED',
    })
    expect(ruleFires(applesUs, facts())).toBe(true)
    expect(ruleFires(applesUs, facts({ header: { ...facts().header, ieFlag: 'E' } }))).toBe(false)
    expect(ruleFires(applesUs, facts({ items: [PHONES] }))).toBe(false)
  })

  it("tests the trader's credit level as a header field", () => {
    const r = rule([c('traderCredit', 'in', ['DISHONEST', 'SERIOUSLY_DISHONEST'])], { score: 10 })
    expect(ruleFires(r, facts({ traderCredit: 'DISHONEST' }))).toBe(true)
    expect(ruleFires(r, facts({ traderCredit: 'REGULAR' }))).toBe(false)
  })

  it.each<[string, Condition, boolean]>([
    ['eq on a number', c('packages', 'eq', 10), true],
    ['ne', c('currency', 'ne', 'USD'), false],
    ['notIn', c('tradeCountry', 'notIn', ['JPN', 'KOR']), true],
    ['prefix with a list', c('hsCode', 'prefix', ['0101', '8517']), true],
    ['notPrefix holds only if no item matches it', c('hsCode', 'notPrefix', '0808'), true],
    ['contains, case-insensitive', c('description', 'contains', 'APPLE'), true],
    ['lt', c('totalValueCny', 'lt', 31985.5), false],
    ['lte', c('totalValueCny', 'lte', 31985.5), true],
    ['gt on an item value', c('unitValueCny', 'gt', 2000), true],
    ['gte', c('quantity', 'gte', 1201), false],
    ['between, inclusive', c('itemValueCny', 'between', [10650, 10650]), true],
  ])('evaluates %s', (_name, cond, expected) => {
    expect(ruleFires(rule([cond], { score: 1 }), facts())).toBe(expected)
  })

  it('treats a missing field as failing eq/in/prefix/comparisons and passing ne/notIn/notPrefix', () => {
    const f = facts()
    expect(ruleFires(rule([c('departureCountry', 'eq', 'USA')], { score: 1 }), f)).toBe(false)
    expect(ruleFires(rule([c('departureCountry', 'gt', 0)], { score: 1 }), f)).toBe(false)
    expect(ruleFires(rule([c('departureCountry', 'ne', 'USA')], { score: 1 }), f)).toBe(true)
    expect(ruleFires(rule([c('departureCountry', 'notIn', ['USA'])], { score: 1 }), f)).toBe(true)
    expect(ruleFires(rule([c('departureCountry', 'notPrefix', 'U')], { score: 1 }), f)).toBe(true)
  })

  it('never fires an item condition on a declaration without items', () => {
    expect(ruleFires(rule([c('hsCode', 'prefix', '08')], { lane: 'RED' }), facts({ items: [] }))).toBe(false)
  })
})

describe('decide', () => {
  it('sends a declaration nothing flags to GREEN with source NONE and says so', () => {
    const d = run()
    expect(d).toEqual({
      score: 0,
      lane: 'GREEN',
      source: 'NONE',
      random: false,
      reasons: [{ code: 'NO_RISK', message: expect.any(String) }],
      paramsVersion: 7,
    })
  })

  describe('hard rules', () => {
    it("routes to the rule's lane whatever the score: source RULE, reason naming the rule", () => {
      const r = rule([c('hsCode', 'prefix', '0808')], { lane: 'RED', reason: 'apples under control order' })
      const d = run({ rules: [r] })
      expect(d).toMatchObject({ lane: 'RED', source: 'RULE', score: 0 })
      expect(d.reasons).toEqual([
        { code: 'RULE_LANE', message: expect.stringContaining('apples under control order'), ruleId: r.id },
      ])
    })

    it('takes the most severe lane when several hard rules fire', () => {
      const d = run({
        rules: [
          rule([c('hsCode', 'prefix', '8517')], { lane: 'YELLOW' }),
          rule([c('hsCode', 'prefix', '0808')], { lane: 'RED' }),
        ],
      })
      expect(d).toMatchObject({ lane: 'RED', source: 'RULE' })
    })

    it('ignores inactive rules', () => {
      const d = run({ rules: [rule([c('hsCode', 'prefix', '0808')], { lane: 'RED' }, { active: false })] })
      expect(d).toMatchObject({ lane: 'GREEN', source: 'NONE' })
    })

    it('wins over a random pick of a lower lane', () => {
      const d = run({
        rules: [rule([c('hsCode', 'prefix', '0808')], { lane: 'RED' })],
        params: params({ minRandomRate: 1, randomLane: 'YELLOW' }),
      })
      expect(d).toMatchObject({ lane: 'RED', source: 'RULE', random: true })
    })

    it('does not lower a more severe score lane: a YELLOW rule under a RED model score stays RED (MODEL)', () => {
      const d = run({ rules: [rule([c('hsCode', 'prefix', '0808')], { lane: 'YELLOW' })], modelScore: 90 })
      expect(d).toMatchObject({ lane: 'RED', source: 'MODEL', score: 90 })
    })
  })

  describe('score and thresholds', () => {
    it('adds up the scores of the rules that fire (source RULE)', () => {
      const d = run({
        rules: [
          rule([c('hsCode', 'prefix', '0808')], { score: 20 }),
          rule([c('tradeCountry', 'eq', 'USA')], { score: 15 }),
          rule([c('tradeCountry', 'eq', 'JPN')], { score: 50 }),
        ],
      })
      expect(d).toMatchObject({ score: 35, lane: 'YELLOW', source: 'RULE' })
      expect(codes(d)).toEqual(['RULE_SCORE', 'RULE_SCORE'])
    })

    it('adds rule scores to the model score', () => {
      const d = run({
        rules: [rule([c('hsCode', 'prefix', '0808')], { score: 25, reason: 'UNDERVALUE' })],
        modelScore: 50,
      })
      expect(d).toMatchObject({ score: 75, lane: 'RED', source: 'RULE' })
    })

    it.each<[number, Lane]>([
      [0, 'GREEN'],
      [30, 'GREEN'],
      [30.99, 'GREEN'],
      [31, 'YELLOW'],
      [70, 'YELLOW'],
      [70.99, 'YELLOW'],
      [71, 'RED'],
      [100, 'RED'],
    ])('maps score %d to %s (0–30 green, 31–70 yellow, 71–100 red)', (score, lane) => {
      expect(run({ modelScore: score }).lane).toBe(lane)
    })

    it('clamps the score to 0–100', () => {
      expect(
        run({ rules: [rule([c('ieFlag', 'eq', 'I')], { score: 100 }), rule([c('ieFlag', 'eq', 'I')], { score: 100 })] })
          .score,
      ).toBe(100)
      expect(run({ rules: [rule([c('ieFlag', 'eq', 'I')], { score: -100 })] }).score).toBe(0)
    })

    it('follows the thresholds of the parameters in force', () => {
      expect(run({ modelScore: 50, params: params({ thresholds: { yellow: 20, red: 50 } }) }).lane).toBe('RED')
    })
  })

  describe('credit factor', () => {
    it('lets ADVANCED_CERTIFIED (×0.2) turn a would-be red into green', () => {
      expect(run({ modelScore: 90 }).lane).toBe('RED')
      const d = run({ modelScore: 90, credit: 'ADVANCED_CERTIFIED' })
      expect(d).toMatchObject({ score: 18, lane: 'GREEN', source: 'NONE' })
      expect(codes(d)).toContain('CREDIT')
    })

    it("releases a CERTIFIED (AEO) trader's yellow as BLUE", () => {
      const d = run({ modelScore: 80, credit: 'CERTIFIED' })
      expect(d).toMatchObject({ score: 40, lane: 'BLUE', source: 'NONE' })
      expect(codes(d)).toEqual(['CREDIT', 'AEO_BLUE'])
    })

    it('keeps an AEO yellow YELLOW when aeoYellowToBlue is off', () => {
      expect(run({ modelScore: 80, credit: 'CERTIFIED', params: params({ aeoYellowToBlue: false }) }).lane).toBe(
        'YELLOW',
      )
    })

    it("never turns a REGULAR trader's yellow blue", () => {
      expect(run({ modelScore: 40 }).lane).toBe('YELLOW')
    })

    it('sends a DISHONEST trader with no risk at least to YELLOW (score +40)', () => {
      const d = run({ credit: 'DISHONEST' })
      expect(d).toMatchObject({ score: 40, lane: 'YELLOW', source: 'CREDIT' })
    })

    it("applies DISHONEST's minimum lane YELLOW on its own (add 0): reason CREDIT_MIN_LANE", () => {
      const p = params({ credit: { ...DEFAULT_PARAMS.credit, DISHONEST: { factor: 1, add: 0, minLane: 'YELLOW' } } })
      const d = run({ credit: 'DISHONEST', params: p })
      expect(d).toMatchObject({ score: 0, lane: 'YELLOW', source: 'CREDIT' })
      expect(codes(d)).toContain('CREDIT_MIN_LANE')
    })

    it('sends a SERIOUSLY_DISHONEST trader to RED (minimum lane), source CREDIT', () => {
      const d = run({ credit: 'SERIOUSLY_DISHONEST' })
      expect(d).toMatchObject({ score: 60, lane: 'RED', source: 'CREDIT' })
      expect(codes(d)).toEqual(['CREDIT', 'CREDIT_MIN_LANE'])
    })
  })

  describe('capacity caps (rolling window)', () => {
    it("demotes a score-driven RED to YELLOW once the window's red rate is at the cap (15%)", () => {
      const d = run({ modelScore: 80, window: windowWith(20, 3) })
      expect(d).toMatchObject({ lane: 'YELLOW', source: 'MODEL' })
      expect(codes(d)).toContain('CAPACITY')
    })

    it('never demotes an interception (score at or above interceptScore), even at the cap', () => {
      const d = run({ modelScore: 90, window: windowWith(20, 3) })
      expect(d).toMatchObject({ lane: 'RED', source: 'MODEL' })
      expect(codes(d)).toContain('MODEL_INTERCEPT')
    })

    it('sends an unsure model score to a document check at the exploration rate', () => {
      const picked = Array.from({ length: 2000 }, (_, i) =>
        run({ modelScore: 25, params: params({ explorationRate: 0.05 }), declarationId: `x-${i}` }),
      ).filter((d) => codes(d).includes('MODEL_EXPLORE'))
      expect(picked.length).toBeGreaterThan(60)
      expect(picked.length).toBeLessThan(140)
      expect(picked.every((d) => d.lane === 'YELLOW' && d.source === 'MODEL')).toBe(true)
      const sure = Array.from({ length: 500 }, (_, i) =>
        run({ modelScore: 5, params: params({ explorationRate: 0.05 }), declarationId: `y-${i}` }),
      )
      expect(sure.some((d) => codes(d).includes('MODEL_EXPLORE'))).toBe(false)
    })

    it('keeps a score-driven RED while the red rate is below the cap', () => {
      const d = run({ modelScore: 80, window: windowWith(20, 2) })
      expect(d.lane).toBe('RED')
      expect(codes(d)).not.toContain('CAPACITY')
    })

    it('demotes a score-driven YELLOW to GREEN when yellow is at its cap (30%)', () => {
      const d = run({ modelScore: 50, window: windowWith(10, 0, 3) })
      expect(d.lane).toBe('GREEN')
      expect(codes(d)).toContain('CAPACITY')
    })

    it('never demotes a hard-rule lane', () => {
      const d = run({
        rules: [rule([c('hsCode', 'prefix', '0808')], { lane: 'RED' })],
        modelScore: 90,
        window: windowWith(20, 20),
      })
      expect(d).toMatchObject({ lane: 'RED', source: 'RULE' })
    })

    it('never demotes a RANDOM pick', () => {
      const d = run({ params: params({ minRandomRate: 1, randomLane: 'RED' }), window: windowWith(20, 20) })
      expect(d).toMatchObject({ lane: 'RED', source: 'RANDOM', random: true })
    })

    it('never demotes a credit minimum lane', () => {
      const d = run({ credit: 'SERIOUSLY_DISHONEST', window: windowWith(20, 20) })
      expect(d).toMatchObject({ lane: 'RED', source: 'CREDIT' })
      expect(codes(d)).not.toContain('CAPACITY')
    })

    it("records each decision's score lane in the window", () => {
      const w = new LaneWindow(4)
      run({ modelScore: 90, window: w })
      run({ modelScore: 0, window: w })
      expect(w.rate('RED')).toBe(0.5)
      expect(w.rate('GREEN')).toBe(0.5)
    })
  })

  describe('random control draw', () => {
    it('picks a declaration whose seeded draw is under the minimum rate, whatever its score: source RANDOM', () => {
      const d = run({ params: params({ minRandomRate: DEFAULT_PARAMS.minRandomRate }), declarationId: PICKED })
      expect(d).toMatchObject({ lane: 'RED', source: 'RANDOM', random: true, score: 0 })
      expect(codes(d)).toContain('RANDOM')
    })

    it('leaves a declaration whose draw is over the rate alone', () => {
      const d = run({ params: params({ minRandomRate: DEFAULT_PARAMS.minRandomRate }), declarationId: NOT_PICKED })
      expect(d).toMatchObject({ lane: 'GREEN', random: false })
    })

    it('does not lower a more severe lane: a YELLOW random pick under a RED score stays RED, marked random', () => {
      const d = run({ params: params({ minRandomRate: 1, randomLane: 'YELLOW' }), modelScore: 90 })
      expect(d).toMatchObject({ lane: 'RED', source: 'MODEL', random: true })
    })
  })
})

describe('randomDraw', () => {
  test.prop([fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.string()])(
    'is a number in [0, 1), the same for the same (seed, id)',
    (seed, id) => {
      const x = randomDraw(seed, id)
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThan(1)
      expect(randomDraw(seed, id)).toBe(x)
    },
  )

  it('depends on both the seed and the id', () => {
    const id = '0196b7a0-0000-7000-8000-000000000001'
    expect(randomDraw(1, id)).not.toBe(randomDraw(2, id))
    expect(randomDraw(1, id)).not.toBe(randomDraw(1, id.replace(/1$/, '2')))
  })

  it('selects 2% ± 0.4 pp of 20,000 ids at the default rate (statistical, deterministic ids)', () => {
    let picked = 0
    for (let i = 0; i < 20_000; i++) {
      const id = `0196b7a0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`
      if (randomDraw(DEFAULT_PARAMS.randomSeed, id) < 0.02) picked++
    }
    expect(Math.abs(picked / 20_000 - 0.02)).toBeLessThanOrEqual(0.004)
  })
})

describe('LaneWindow', () => {
  it('has rate 0 when empty', () => {
    expect(new LaneWindow(10).rate('RED')).toBe(0)
  })

  it("gives each lane's share of the last `size` lanes, forgetting older ones", () => {
    const w = new LaneWindow(4)
    for (const l of ['RED', 'RED', 'GREEN', 'YELLOW'] as const) w.push(l)
    expect(w.rate('RED')).toBe(0.5)
    w.push('GREEN')
    w.push('GREEN')
    expect(w.rate('RED')).toBe(0)
    expect(w.rate('GREEN')).toBe(0.75)
    expect(w.rate('YELLOW')).toBe(0.25)
  })

  it('shrinks to a new size on the next push', () => {
    const w = new LaneWindow(10)
    for (const l of ['RED', 'RED', 'GREEN', 'GREEN'] as const) w.push(l)
    w.resize(2)
    w.push('BLUE')
    expect(w.rate('RED')).toBe(0)
    expect(w.rate('GREEN')).toBe(0.5)
    expect(w.rate('BLUE')).toBe(0.5)
  })

  test.prop([
    fc.integer({ min: 1, max: 50 }),
    fc.array(fc.constantFrom<Lane>('GREEN', 'BLUE', 'YELLOW', 'RED'), { maxLength: 200 }),
  ])('always agrees with counting the last `size` pushes', (size, lanes) => {
    const w = new LaneWindow(size)
    for (const l of lanes) w.push(l)
    const last = lanes.slice(-size)
    for (const l of ['GREEN', 'BLUE', 'YELLOW', 'RED'] as const) {
      expect(w.rate(l)).toBeCloseTo(last.length === 0 ? 0 : last.filter((x) => x === l).length / last.length, 12)
    }
  })
})
