import { describe, expect, it } from 'vitest'
import { isDecimal, mulDecimal } from './decimal.js'
import { SseParser } from './sse.js'
import { explainReason, featureWords, keyWords } from './explain.js'
import { translate } from '../i18n.js'
import { chinaTime, tokenOf } from './format.js'

describe('mulDecimal', () => {
  it('multiplies decimal strings exactly and rounds half up', () => {
    expect(mulDecimal('1200', '1.25', 2)).toBe('1500.00')
    expect(mulDecimal('10', '300.5', 2)).toBe('3005.00')
    expect(mulDecimal('0.1', '0.2', 2)).toBe('0.02')
    expect(mulDecimal('3', '0.335', 2)).toBe('1.01') // 1.005 → 1.01 (a float gives 1.00)
    expect(mulDecimal('123456789012345', '1', 0)).toBe('123456789012345')
  })
  it('knows a decimal string when it sees one', () => {
    expect(isDecimal('12.5')).toBe(true)
    expect(isDecimal('012')).toBe(false)
    expect(isDecimal('1.123456')).toBe(false)
    expect(isDecimal('1e3')).toBe(false)
  })
})

describe('SseParser', () => {
  it('assembles events split across chunks, ignores comments, keeps retry', () => {
    const p = new SseParser()
    expect(p.push('retry: 2000\n\n: keep-alive\nevent: snap')).toEqual([])
    expect(p.push('shot\ndata: {"a":1}\n')).toEqual([])
    expect(p.push('\ndata: x\r\ndata: y\r\n\r\n')).toEqual([
      { event: 'snapshot', data: '{"a":1}' },
      { event: 'message', data: 'x\ny' },
    ])
    expect(p.retryMs).toBe(2000)
  })
})

describe('reasons in words', () => {
  it('explains model feature contributions in Chinese and English', () => {
    const r = { code: 'MODEL_FEATURE', message: 'hs6×origin.rate = 0.412 (+0.82 log-odds)' }
    expect(explainReason(r, 'en')).toEqual({
      kind: 'Model evidence',
      text: 'Past non-compliance rate of this HS subheading + origin country: 41.2%',
      weight: 0.82,
    })
    expect(explainReason(r, 'zh')).toEqual({
      kind: '模型依据',
      text: '该HS 子目+原产国的历史违规率：41.2%',
      weight: 0.82,
    })
  })
  it('covers novelty, value anomalies and missing values', () => {
    expect(featureWords('hs6×importer.isNew', 1, 'en')).toBe('First time this importer declares this HS subheading')
    expect(featureWords('hs6×origin.valuePerKgZ', -2.345, 'en')).toBe(
      'Value per kg is -2.3 standard deviations from usual for this HS subheading + origin country',
    )
    expect(explainReason({ code: 'MODEL_FEATURE', message: 'seller.crit = n/a (+0.1 log-odds)' }, 'en').text).toBe(
      'seller.crit: no history yet',
    )
    expect(keyWords('importer×seller', 'zh')).toBe('该收发货人+境外发货人')
  })
  it('states the model probability, the random draw, and keeps rule and unknown messages as written', () => {
    expect(explainReason({ code: 'MODEL', message: 'risk model v3: fraud probability 87.5%' }, 'en').text).toBe(
      'Risk model v3 puts the chance of non-compliance at 87.5%',
    )
    expect(explainReason({ code: 'RANDOM', message: 'random control selection (rate 0.02)' }, 'zh').kind).toBe(
      '随机布控',
    )
    expect(explainReason({ code: 'RULE_LANE', message: 'phones-red: phones', ruleId: 'x' }, 'en')).toEqual({
      kind: 'Targeting rule hit',
      text: 'phones-red: phones',
    })
    expect(explainReason({ code: 'SOMETHING_NEW', message: 'as stored' }, 'zh')).toEqual({
      kind: 'SOMETHING_NEW',
      text: 'as stored',
    })
  })
})

describe('translate', () => {
  it('fills placeholders, defaults to the key for unknown strings', () => {
    expect(translate('en', 'dash.lift', { pp: 12.5 })).toBe('Lift 12.5 points')
    expect(translate('zh', 'dash.lift', { pp: 12.5 })).toBe('提升 12.5 个百分点')
    expect(translate('zh', 'no.such.key')).toBe('no.such.key')
  })
})

describe('format', () => {
  it('takes the token out of a scanned verify URL, or the token as pasted', () => {
    expect(tokenOf(' http://127.0.0.1:3000/verify/K1.C.5301.abc.kid.sig?x=1 ')).toBe('K1.C.5301.abc.kid.sig')
    expect(tokenOf('K1.C.5301.abc.kid.sig')).toBe('K1.C.5301.abc.kid.sig')
  })
  it('shows times in China time', () => {
    expect(chinaTime('2026-05-10T16:30:00.000Z')).toBe('2026-05-11 00:30:00')
    expect(chinaTime(null)).toBe('—')
  })
})
