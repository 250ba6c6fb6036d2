import { A4, PdfWriter } from '../../shared/pdf.js'
import { canonicalJson } from '../../shared/signing.js'
import { chinaDateTime, countryLabel, quantityLabel, reference, tradeModeLabel } from '../certificates/index.js'
import type { PrintContent } from './fields.js'

const QR_SIZE = 110

/**
 * The printout of an archived declaration: the declaration's header and goods as archived at clearance, its
 * serial and print time, the statement of equal effect, and the QR code of its verify URL. The canonical JSON of
 * the printed content is attached (`printout.json`); the token is in the document keywords.
 */
export async function renderArchivePdf(p: PrintContent, token: string, url: string): Promise<Uint8Array> {
  const s = p.archive
  const c = s.content
  const ref = reference()
  const imp = c.ieFlag === 'I'
  const w = await PdfWriter.create({
    title: `${imp ? '进口' : '出口'}货物报关单 ${s.entryId}（档案打印件 ${p.serial}）`,
    subject: 'Archived goods declaration, printout',
    keywords: [`kouan-token:${token}`, p.serial, s.entryId],
    createdAt: new Date(p.printedAt),
    footer: `打印编号 ${p.serial}，打印时间 ${chinaDateTime(p.printedAt)}。本打印件与海关档案部门出具的复制件具有同等效力，扫描二维码核验。 Printout ${p.serial}: same effect as a copy from the customs archive office; scan the QR code to verify.`,
  })
  w.text("中华人民共和国海关  CUSTOMS OF THE PEOPLE'S REPUBLIC OF CHINA", {
    size: 9,
    center: true,
    color: 'muted',
    gap: 6,
  })
  w.title(
    imp ? '中华人民共和国海关进口货物报关单' : '中华人民共和国海关出口货物报关单',
    imp ? 'Import Goods Declaration' : 'Export Goods Declaration',
  )
  w.text(`档案打印件 Archive printout  ·  编号 Serial ${p.serial}  ·  ${chinaDateTime(p.printedAt)}`, {
    size: 9,
    center: true,
    gap: 6,
  })
  w.rule(10)
  const term = ref.transactionTerms(c.transactionTerms)
  const transport = ref.transportMode(c.transportMode)
  w.fields(
    [
      { zh: '海关编号', en: 'Entry No.', value: s.entryId },
      { zh: '申报地海关', en: 'Customs of declaration', value: c.customsDistrict },
      { zh: imp ? '进境关别' : '出境关别', en: 'Port', value: c.iePort },
      {
        zh: imp ? '境内收货人' : '境内发货人',
        en: imp ? 'Domestic consignee' : 'Domestic consignor',
        value: `${s.trader.name}（${s.trader.customsCode}）`,
      },
      { zh: '统一社会信用代码', en: 'USCC', value: s.trader.uscc },
      { zh: '申报单位', en: 'Declarant', value: `${s.declarant.name}（${s.declarant.customsCode}）` },
      { zh: '监管方式', en: 'Trade mode', value: tradeModeLabel(c.tradeMode) },
      { zh: '征免性质', en: 'Levy nature', value: c.cutMode ?? '' },
      { zh: '备案号', en: 'Manual No.', value: c.manualNo ?? '' },
      { zh: '运输方式', en: 'Transport mode', value: `${c.transportMode} ${transport?.name ?? ''}`.trim() },
      { zh: '提运单号', en: 'B/L No.', value: c.billNo ?? '' },
      { zh: '航次号', en: 'Voyage No.', value: c.voyageNo ?? '' },
      { zh: '贸易国（地区）', en: 'Trading country', value: countryLabel(c.tradeCountry) },
      {
        zh: imp ? '启运国（地区）' : '运抵国（地区）',
        en: imp ? 'Country of dispatch' : 'Destination',
        value: c.departureCountry ? countryLabel(c.departureCountry) : '',
      },
      { zh: '成交方式', en: 'Transaction terms', value: `${c.transactionTerms} ${term?.name ?? ''}`.trim() },
      { zh: '件数', en: 'Packages', value: String(c.packages) },
      { zh: '毛重（千克）', en: 'Gross mass (kg)', value: c.grossMassKg },
      { zh: '净重（千克）', en: 'Net mass (kg)', value: c.netMassKg },
      { zh: '申报日期', en: 'Declared', value: chinaDateTime(s.declaredAt) },
      { zh: '放行日期', en: 'Released', value: s.releasedAt ? chinaDateTime(s.releasedAt) : '' },
      { zh: '结关日期', en: 'Cleared', value: chinaDateTime(s.clearedAt) },
    ],
    3,
  )
  w.y -= 4
  w.table(
    [
      { zh: '项号', en: 'No.', width: 26 },
      { zh: '商品编号', en: 'Code', width: 66 },
      { zh: '商品名称、规格型号', en: 'Description, model', width: 150 },
      { zh: '数量及单位', en: 'Quantity', width: 72, align: 'right' },
      { zh: `单价/总价（${c.currency}）`, en: 'Unit price / total', width: 86, align: 'right' },
      { zh: '原产国（地区）', en: 'Origin', width: 78 },
    ],
    c.items.map((it, i) => [
      String(i + 1),
      it.hsCode,
      it.model ? `${it.description} ${it.model}` : it.description,
      quantityLabel(it.quantity, it.unit),
      `${it.unitPrice} / ${it.totalValue}`,
      countryLabel(it.originCountry),
    ]),
  )
  w.text(`总价 Total: ${s.totalValue} ${c.currency}（折合人民币 CNY ${s.totalValueCny}）`, { size: 10, gap: 8 })

  w.ensure(QR_SIZE + 20)
  const top = w.y
  w.qr(url, A4[0] - 40 - QR_SIZE, top - QR_SIZE, QR_SIZE)
  w.fields(
    [
      {
        zh: '效力说明',
        en: 'Legal effect',
        value:
          '本打印件与海关档案部门出具的复制件具有同等效力。 This printout has the same effect as a copy issued by the customs archive office.',
      },
      { zh: '档案保管期限至', en: 'Archive retained until', value: p.retainUntil },
      { zh: '核验', en: 'Verify', value: '扫描右侧二维码核验打印件真伪。 Scan the QR code to verify this printout.' },
    ],
    1,
    QR_SIZE + 16,
  )
  w.y = Math.min(w.y, top - QR_SIZE - 6)
  w.text(url, { size: 6, color: 'muted' })
  await w.attach(
    'printout.json',
    Buffer.from(canonicalJson(p), 'utf8'),
    'Printed content (RFC 8785 canonical JSON); its SHA-256 is the digest in the QR token',
  )
  return w.save()
}
