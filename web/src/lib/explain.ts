/**
 * Turns the reasons stored with a risk decision into sentences an officer reads: rule hits by name, the
 * random draw, credit effects, and the model's feature contributions (`hs6×origin.rate = 0.4123 (+0.82
 * log-odds)`) as "Past non-compliance rate of this HS subheading from this origin: 41%". Pure: the words come
 * from the language's tables, so the same reasons read in Chinese or English.
 */
export type Lang = 'zh' | 'en'
export interface Reason {
  code: string
  message: string
  ruleId?: string | undefined
}
export interface Explained {
  /** Headline of the reason kind (rule hit, model, random draw…). */
  kind: string
  /** The sentence. */
  text: string
  /** Model feature contributions: log-odds added to the score (for a bar); undefined otherwise. */
  weight?: number
}

const PARTS: Record<string, [string, string]> = {
  hs2: ['HS 章', 'HS chapter'],
  hs4: ['HS 品目', 'HS heading'],
  hs6: ['HS 子目', 'HS subheading'],
  hs8: ['税则号列', 'tariff line'],
  hs: ['商品编码', 'commodity code'],
  office: ['申报关区', 'customs office'],
  importer: ['收发货人', 'importer'],
  declarant: ['申报单位', 'declarant'],
  seller: ['境外发货人', 'seller'],
  courier: ['快件运营人', 'courier'],
  origin: ['原产国', 'origin country'],
  departure: ['启运国', 'departure country'],
  taxType: ['征免方式', 'tax type'],
  taxRateCode: ['税率', 'duty rate'],
  importType: ['进口类型', 'import type'],
  importUse: ['进口用途', 'import use'],
  paymentType: ['支付方式', 'payment type'],
  transport: ['运输方式', 'transport mode'],
  processType: ['通关方式', 'process type'],
  originIndicator: ['原产地标记', 'origin indicator'],
}

const KINDS: Record<string, [string, string]> = {
  RULE_LANE: ['布控规则命中', 'Targeting rule hit'],
  RULE_SCORE: ['规则加分', 'Rule score'],
  RANDOM: ['随机布控', 'Random control selection'],
  CREDIT: ['信用等级', 'Credit level'],
  CREDIT_MIN_LANE: ['信用等级', 'Credit level'],
  AEO_BLUE: ['AEO 便利', 'AEO facilitation'],
  CAPACITY: ['查验能力上限', 'Inspection capacity'],
  MODEL: ['风险模型', 'Risk model'],
  MODEL_FEATURE: ['模型依据', 'Model evidence'],
  MODEL_INTERCEPT: ['模型拦截', 'Model interception'],
  MODEL_EXPLORE: ['模型学习抽查', 'Model exploration'],
  NO_RISK: ['无风险', 'No risk found'],
}

const pct = (v: number) => `${Math.round(v * 1000) / 10}%`
const num = (v: number, dp = 0) => (Math.round(v * 10 ** dp) / 10 ** dp).toLocaleString('en-US')

/** "this HS subheading × origin country" → words for the key, e.g. 该 HS 子目 + 原产国 / this HS subheading from this origin country. */
export function keyWords(key: string, lang: Lang): string {
  const names = key.split('×').map((p) => PARTS[p]?.[lang === 'zh' ? 0 : 1] ?? p)
  return lang === 'zh' ? `该${names.join('+')}` : `this ${names.join(' + ')}`
}

/** Sentence for one model feature and its value. */
export function featureWords(feature: string, value: number, lang: Lang): string {
  const zh = lang === 'zh'
  const dot = feature.lastIndexOf('.')
  const key = dot < 0 ? '' : feature.slice(0, dot)
  const stat = dot < 0 ? feature : feature.slice(dot + 1)
  const k = keyWords(key, lang)
  switch (stat) {
    case 'rate':
      return zh ? `${k}的历史违规率：${pct(value)}` : `Past non-compliance rate of ${k}: ${pct(value)}`
    case 'pos':
      return zh ? `${k}历史查获违规 ${num(value)} 次` : `${num(value)} past non-compliant findings for ${k}`
    case 'n':
      return zh ? `${k}历史查验 ${num(value)} 次` : `${num(value)} past inspected declarations of ${k}`
    case 'crit':
      return zh
        ? `${k}历史严重违规（安全类）${num(value)} 次`
        : `${num(value)} past critical (safety) findings for ${k}`
    case 'valuePerKgZ':
      return zh
        ? `每千克价格偏离${k}常见水平 ${num(value, 1)} 个标准差`
        : `Value per kg is ${num(value, 1)} standard deviations from usual for ${k}`
    case 'valuePerUnitZ':
      return zh
        ? `单价偏离${k}常见水平 ${num(value, 1)} 个标准差`
        : `Unit value is ${num(value, 1)} standard deviations from usual for ${k}`
    case 'seen':
      return zh ? `收发货人此前申报 ${num(value)} 次` : `The importer declared ${num(value)} times before`
    case 'daysSinceFirst':
      return zh ? `收发货人首次申报于 ${num(value)} 天前` : `The importer first declared ${num(value)} days ago`
    case 'daysSinceLast':
      return zh
        ? `收发货人上次申报于 ${num(value)} 天前`
        : `The importer's previous declaration was ${num(value)} days ago`
    case 'isNew':
      if (key === 'hs6×importer')
        return value
          ? zh
            ? '该收发货人首次申报此 HS 子目'
            : 'First time this importer declares this HS subheading'
          : zh
            ? '该收发货人申报过此 HS 子目'
            : 'The importer declared this HS subheading before'
      if (key === 'importer×seller')
        return value
          ? zh
            ? '该收发货人的新境外发货人'
            : 'A new seller for this importer'
          : zh
            ? '熟悉的境外发货人'
            : 'A known seller for this importer'
      return value
        ? zh
          ? '从未出现过的境外发货人'
          : 'A seller never seen before'
        : zh
          ? '出现过的境外发货人'
          : 'A known seller'
    case 'logValue':
      return zh ? `申报货值约 ${num(Math.exp(value))} 元` : `Declared value about ${num(Math.exp(value))} CNY`
    case 'logNetMass':
      return zh ? `净重约 ${num(Math.exp(value))} 千克` : `Net mass about ${num(Math.exp(value))} kg`
    case 'logValuePerKg':
      return zh ? `每千克价格约 ${num(Math.exp(value), 2)} 元` : `Value per kg about ${num(Math.exp(value), 2)} CNY`
    case 'logValuePerUnit':
      return zh ? `单价约 ${num(Math.exp(value), 2)} 元` : `Unit value about ${num(Math.exp(value), 2)} CNY`
    case 'taxRate':
      return zh ? `关税税率 ${num(value, 1)}%` : `Duty rate ${num(value, 1)}%`
    case 'credit':
      return zh
        ? `企业信用等级（${['高级认证', '一般认证', '一般信用', '失信', '严重失信'][value] ?? value}）`
        : `Enterprise credit level (${['advanced certified', 'certified', 'regular', 'dishonest', 'seriously dishonest'][value] ?? value})`
    case 'aeo':
      return value ? (zh ? 'AEO 认证企业' : 'AEO-certified trader') : zh ? '非 AEO 企业' : 'Not an AEO trader'
    case 'rulesFired':
      return zh ? `命中 ${num(value)} 条布控规则` : `${num(value)} targeting rules fired`
    case 'dayOfWeek':
      return zh ? `申报日（星期 ${num(value)}）` : `Day of the week (${num(value)})`
    case 'month':
      return zh ? `申报月份（${num(value)} 月）` : `Month of the year (${num(value)})`
    default:
      return `${feature} = ${value}`
  }
}

const FEATURE_MESSAGE = /^(\S+) = (-?[0-9.eE+-]+|n\/a) \(\+?(-?[0-9.]+) log-odds\)$/
const MODEL_MESSAGE = /risk model v(\d+): fraud probability ([0-9.]+)%/

/** One stored reason in words. Unknown codes keep their message, so nothing is ever hidden from the officer. */
export function explainReason(r: Reason, lang: Lang): Explained {
  const zh = lang === 'zh'
  const kind = KINDS[r.code]?.[zh ? 0 : 1] ?? r.code
  if (r.code === 'MODEL_FEATURE') {
    const m = FEATURE_MESSAGE.exec(r.message)
    if (m && m[2] === 'n/a')
      return { kind, text: zh ? `${m[1]}：无历史数据` : `${m[1]}: no history yet`, weight: Number(m[3]) }
    if (m) return { kind, text: featureWords(m[1]!, Number(m[2]), lang), weight: Number(m[3]) }
  }
  if (r.code === 'MODEL') {
    const m = MODEL_MESSAGE.exec(r.message)
    if (m)
      return {
        kind,
        text: zh
          ? `风险模型 v${m[1]} 判断违规概率 ${m[2]}%`
          : `Risk model v${m[1]} puts the chance of non-compliance at ${m[2]}%`,
      }
  }
  if (r.code === 'RULE_LANE' || r.code === 'RULE_SCORE') return { kind, text: r.message }
  if (r.code === 'RANDOM')
    return {
      kind,
      text: zh ? '随机抽中（对照组，用于衡量布控效果）' : 'Drawn at random (control group that measures targeting)',
    }
  if (r.code === 'NO_RISK')
    return { kind, text: zh ? '未命中规则，风险分低于阈值' : 'No rule fired, score below the thresholds' }
  return { kind, text: r.message }
}
