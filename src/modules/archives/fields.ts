import type { ArchiveSnapshot } from './schema.js'
import { chinaDateTime, countryLabel, tradeModeLabel, type PrintedField } from '../certificates/index.js'

/** What a printout's QR digest covers: the serial, the print time and the archived declaration. */
export interface PrintContent {
  serial: string
  printedAt: string
  retainUntil: string
  archive: ArchiveSnapshot
}

/** The fields a verifier sees for a printout: enough to compare with the paper, no goods detail. */
export function archivePrintFields(
  snapshot: Record<string, unknown>,
  p: { serial: string; printedAt: string; retainUntil: string },
): PrintedField[] {
  const s = snapshot as unknown as ArchiveSnapshot
  const f = (labelZh: string, labelEn: string, value: string): PrintedField => ({ labelZh, labelEn, value })
  return [
    f('打印编号', 'Printout serial', p.serial),
    f('打印时间', 'Printed at', chinaDateTime(p.printedAt)),
    f('报关单号', 'Entry No.', s.entryId),
    f(
      s.content.ieFlag === 'I' ? '境内收货人' : '境内发货人',
      s.content.ieFlag === 'I' ? 'Consignee' : 'Consignor',
      `${s.trader.name}（${s.trader.customsCode}）`,
    ),
    f('监管方式', 'Trade mode', tradeModeLabel(s.content.tradeMode)),
    f('申报地海关 / 进出境关别', 'Customs / port', `${s.content.customsDistrict} / ${s.content.iePort}`),
    f('贸易国', 'Trading country', countryLabel(s.content.tradeCountry)),
    f('商品项数 / 总价', 'Items / total', `${s.content.items.length} / ${s.totalValue} ${s.content.currency}`),
    f('申报日期', 'Declared', chinaDateTime(s.declaredAt)),
    f('结关日期', 'Cleared', chinaDateTime(s.clearedAt)),
    f('档案保管期限至', 'Retained until', p.retainUntil),
  ]
}
