import { loadReference, type Reference } from '../reference/index.js'
import type { CertificateContent } from './schema.js'

// loadReference() resolves its directory on every call; documents look codes up many times.
let ref: Reference | undefined
export const reference = (): Reference => (ref ??= loadReference())

/** One printed field: bilingual label and its value as shown on paper and on the verify page. */
export interface PrintedField {
  labelZh: string
  labelEn: string
  value: string
}

/** An instant as printed: China time (UTC+8, no DST), to the minute. */
export function chinaDateTime(iso: string): string {
  return `${new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')} (UTC+8)`
}

/** A China date (YYYY-MM-DD) of an instant. */
export function chinaDateOf(iso: string | Date): string {
  return new Date(new Date(iso).getTime() + 8 * 3600_000).toISOString().slice(0, 10)
}

/** A country code with its names (`RUS 俄罗斯 Russia`); the code alone when the table lacks it. */
export function countryLabel(iso3: string): string {
  const c = reference().countryByIso3(iso3)
  return c ? [iso3, c.nameZh, c.nameEn].filter(Boolean).join(' ') : iso3
}

/** A quantity with its JGS-20 unit name (`12000 千克`), or the code when unknown. */
export function quantityLabel(quantity: string, unit: string): string {
  const u = reference().unit(unit)
  return `${quantity} ${u?.name || unit}`
}

/** A trade mode with its name (`0110 一般贸易`). */
export function tradeModeLabel(code: string): string {
  const m = reference().tradeMode(code)
  return m?.name ? `${code} ${m.name}` : code
}

// Names of the customs offices DOMAIN §1 cites; others print by district code.
const OFFICES: Record<string, { zh: string; en: string }> = {
  5301: { zh: '皇岗海关', en: 'Huanggang Customs' },
  5302: { zh: '罗湖海关', en: 'Luohu Customs' },
  5345: { zh: '深圳湾海关', en: 'Shenzhen Bay Customs' },
  3104: { zh: '宁波海关', en: 'Ningbo Customs' },
  3111: { zh: '宁波海关', en: 'Ningbo Customs' },
}

/** The issuing office of a customs district code. */
export function officeOf(code: string): { code: string; name: string; nameEn: string } {
  const o = OFFICES[code]
  return {
    code,
    name: o ? `${o.zh}（${code}）` : `海关关区 ${code}`,
    nameEn: o ? `${o.en} (${code})` : `Customs district ${code}`,
  }
}

export const INSPECTION_RESULT_TEXT: Record<CertificateContent['inspection']['result'], { zh: string; en: string }> = {
  COMPLIANT: {
    zh: '经检验检疫合格，准予销售、使用',
    en: 'Inspected and quarantined: compliant, permitted for sale and use',
  },
  OFFICER_DECISION: { zh: '经审核，准予销售、使用', en: 'Examined by an officer: permitted for sale and use' },
}

/** The printed fields of a certificate, in print order (goods one field per line). */
export function certificateFields(c: CertificateContent): PrintedField[] {
  const f = (labelZh: string, labelEn: string, value: string): PrintedField => ({ labelZh, labelEn, value })
  const result = INSPECTION_RESULT_TEXT[c.inspection.result]
  return [
    f('证明编号', 'Certificate No.', c.number),
    f('报关单号', 'Entry No.', c.entryId),
    f(
      '收货人',
      'Consignee',
      `${c.consignee.name}${c.consignee.nameEn ? ` / ${c.consignee.nameEn}` : ''}（${c.consignee.customsCode}）`,
    ),
    f('输出国家或地区', 'Country of dispatch', countryLabel(c.tradeCountry)),
    f('入境口岸', 'Port of entry', c.iePort),
    ...(c.billNo ? [f('提运单号', 'B/L No.', c.billNo)] : []),
    ...c.goods.map((g) =>
      f(
        `货物 ${g.gNo}`,
        `Goods ${g.gNo}`,
        `${g.hsCode} ${g.description}, ${quantityLabel(g.quantity, g.unit)}, ${countryLabel(g.originCountry)}`,
      ),
    ),
    f('检验检疫结果', 'Result', `${result.zh} / ${result.en}`),
    f('签证机关', 'Issuing office', `${c.issuingOffice.name} / ${c.issuingOffice.nameEn}`),
    f('签发日期', 'Date of issue', chinaDateTime(c.issuedAt)),
    f('有效期至', 'Valid until', chinaDateTime(c.validUntil)),
    ...(c.replaces ? [f('替代证明', 'Replaces', c.replaces)] : []),
    ...(c.remarks ? [f('备注', 'Remarks', c.remarks)] : []),
  ]
}
