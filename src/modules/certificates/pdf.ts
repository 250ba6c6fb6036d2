import { A4, PdfWriter } from '../../shared/pdf.js'
import { canonicalJson } from '../../shared/signing.js'
import { INSPECTION_RESULT_TEXT, chinaDateTime, countryLabel, quantityLabel } from './fields.js'
import type { StoredCertificate } from './repo.js'

const CATEGORY: Record<string, string> = {
  ANIMAL: '动物产品 Animal',
  PLANT: '植物产品 Plant',
  FOOD: '食品 Food',
  OTHER: '其他 Other',
}
const QR_SIZE = 118

/**
 * The A4 certificate: bilingual labels, consignee, goods lines, origin, inspection result, issuing office, dates,
 * and the QR code of its verify URL. The canonical JSON of the printed content is attached (`certificate.json`),
 * so the file can be checked offline against the token's digest; the token is also in the document keywords.
 * Deterministic: the same certificate gives the same bytes. A revoked certificate prints the revocation.
 */
export async function renderCertificatePdf(c: StoredCertificate, url: string): Promise<Uint8Array> {
  const k = c.content
  const w = await PdfWriter.create({
    title: `入境货物检验检疫证明 ${c.number}`,
    subject: 'Entry Goods Inspection and Quarantine Certificate',
    keywords: [`kouan-token:${c.token}`, c.number, c.entryId],
    createdAt: new Date(c.issuedAt),
    footer: `本证明由口岸系统电子签发（签名密钥 ${c.kid}），扫描二维码核验真伪。 Issued electronically by Kouan (signing key ${c.kid}); scan the QR code to verify.`,
  })
  w.text("中华人民共和国海关  CUSTOMS OF THE PEOPLE'S REPUBLIC OF CHINA", {
    size: 9,
    center: true,
    color: 'muted',
    gap: 6,
  })
  w.title('入境货物检验检疫证明', 'Entry Goods Inspection and Quarantine Certificate')
  w.text(`编号 No. ${c.number}`, { size: 11, center: true, gap: 6 })
  if (c.revokedAt)
    w.text(
      `已撤销 REVOKED ${chinaDateTime(c.revokedAt)} — ${c.revocationReason}${c.replacedBy ? `, 由 ${c.replacedBy} 替代 replaced by ${c.replacedBy}` : ''}`,
      { size: 11, center: true, gap: 6 },
    )
  w.rule(10)
  w.fields([
    {
      zh: '收货人',
      en: 'Consignee',
      value: `${k.consignee.name}${k.consignee.nameEn ? `\u3000${k.consignee.nameEn}` : ''}`,
    },
    {
      zh: '海关编码 / 统一社会信用代码',
      en: 'Customs code / USCC',
      value: `${k.consignee.customsCode} / ${k.consignee.uscc}`,
    },
    { zh: '报关单号', en: 'Entry No.', value: k.entryId },
    { zh: '提运单号', en: 'B/L No.', value: k.billNo ?? '' },
    { zh: '输出国家或地区', en: 'Country of dispatch', value: countryLabel(k.tradeCountry) },
    { zh: '入境口岸', en: 'Port of entry', value: k.iePort },
  ])
  w.y -= 4
  w.table(
    [
      { zh: '序号', en: 'No.', width: 28 },
      { zh: '商品编码', en: 'HS code', width: 70 },
      { zh: '货物名称', en: 'Description', width: 150 },
      { zh: '数量', en: 'Quantity', width: 80, align: 'right' },
      { zh: '原产国（地区）', en: 'Origin', width: 90 },
      { zh: '类别', en: 'Category', width: 70 },
    ],
    k.goods.map((g) => [
      String(g.gNo),
      g.hsCode,
      g.description,
      quantityLabel(g.quantity, g.unit),
      countryLabel(g.originCountry),
      CATEGORY[g.category] ?? g.category,
    ]),
  )
  const result = INSPECTION_RESULT_TEXT[k.inspection.result]
  w.text('检验检疫结果 Inspection and quarantine result', { size: 8, color: 'muted' })
  w.text(`上述货物${result.zh}。`, { size: 11 })
  w.text(`${result.en}.`, { size: 10, gap: 8 })
  if (k.replaces) w.text(`本证明替代 ${k.replaces}。 This certificate replaces ${k.replaces}.`, { size: 9, gap: 4 })
  if (k.remarks) w.text(`备注 Remarks: ${k.remarks}`, { size: 9, gap: 4 })

  // Office, dates and the QR code side by side.
  w.ensure(QR_SIZE + 30)
  const top = w.y
  w.qr(url, A4[0] - 40 - QR_SIZE, top - QR_SIZE, QR_SIZE)
  w.fields(
    [
      { zh: '签证机关', en: 'Issuing office', value: `${k.issuingOffice.name}\u3000${k.issuingOffice.nameEn}` },
      { zh: '签发日期', en: 'Date of issue', value: chinaDateTime(k.issuedAt) },
      { zh: '有效期至', en: 'Valid until', value: chinaDateTime(k.validUntil) },
      { zh: '核验', en: 'Verify', value: '扫描右侧二维码，或打开其中的网址。Scan the QR code or open its address.' },
    ],
    1,
    QR_SIZE + 16,
  )
  w.y = Math.min(w.y, top - QR_SIZE - 6)
  w.text(url, { size: 6, color: 'muted' })
  await w.attach(
    'certificate.json',
    Buffer.from(canonicalJson(k), 'utf8'),
    'Printed content of the certificate (RFC 8785 canonical JSON); its SHA-256 is the digest in the QR token',
  )
  return w.save()
}
