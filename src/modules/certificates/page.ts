import { chinaDateTime } from './fields.js'
import type { Reason, Verdict, Verification } from './schema.js'

/** How each verdict reads to the person who scanned the code, and its colour. */
export const VERDICT_TEXT: Record<Verdict, { zh: string; en: string; colour: string }> = {
  AUTHENTIC: { zh: '真实有效', en: 'Authentic', colour: '#1b7f3b' },
  TAMPERED: { zh: '内容或签名不符，请勿采信', en: 'Tampered: content or signature does not match', colour: '#b3261e' },
  REVOKED: { zh: '已撤销', en: 'Revoked', colour: '#b3261e' },
  UNKNOWN_ISSUER: { zh: '签发者未知，请勿采信', en: 'Unknown issuer', colour: '#b3261e' },
  EXPIRED: { zh: '已过有效期', en: 'Expired', colour: '#a35c00' },
  MALFORMED: { zh: '无法识别的核验码', en: 'Not a valid verification code', colour: '#555' },
}

export const REASON_TEXT: Record<Reason, { zh: string; en: string }> = {
  OK: {
    zh: '签名有效，签发者可信，已在登记系统中核对，未撤销，在有效期内',
    en: 'Signature valid, issuer trusted, matches the registry, not revoked, within validity',
  },
  MALFORMED: { zh: '核验码格式错误或不完整', en: 'The code is malformed or truncated' },
  UNSUPPORTED_VERSION: { zh: '核验码版本不受支持', en: 'Unsupported code version' },
  UNSUPPORTED_ALGORITHM: { zh: '签名算法不受支持', en: 'Unsupported signature algorithm' },
  KEY_UNKNOWN: { zh: '签名密钥不在公布的密钥列表中', en: 'The signing key is not among the published keys' },
  KEY_NOT_VALID_AT_SIGNING: {
    zh: '签发时该密钥不在有效期内',
    en: 'The key was not valid when the document was issued',
  },
  SIGNATURE_INVALID: { zh: '签名与内容不符', en: 'The signature does not match' },
  CONTENT_MISMATCH: { zh: '内容与登记记录不符', en: 'The content differs from the registry record' },
  NOT_FOUND: { zh: '登记系统中无此编号', en: 'No such number in the registry' },
  REVOKED: { zh: '签发机关已撤销', en: 'Revoked by the issuing office' },
  EXPIRED: { zh: '已超过有效期', en: 'Past its validity' },
  NOT_YET_VALID: { zh: '尚未生效', en: 'Not yet valid' },
  RETENTION_ENDED: { zh: '档案已超过保管期限', en: 'The archive is past its retention period' },
}

const REVOCATION_TEXT: Record<string, string> = {
  WITHDRAWN: '撤回 Withdrawn',
  SUPERSEDED: '已被替代 Superseded',
  ISSUED_IN_ERROR: '签发错误 Issued in error',
  GOODS_NONCOMPLIANT: '货物不合格 Goods non-compliant',
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/**
 * The public verify page (`GET /verify/{token}`): server-rendered HTML, Chinese and English, readable on a phone,
 * no script. Shows the verdict, every reason, the printed fields when the document is genuine (authentic, revoked
 * or expired) for comparison with the paper, and the time of the check.
 */
export function renderVerifyPage(v: Verification): string {
  const t = VERDICT_TEXT[v.verdict]
  const kind =
    v.kind === 'ARCHIVE_PRINT'
      ? '报关单档案打印件 Archived declaration printout'
      : v.kind === 'CERTIFICATE'
        ? '入境货物检验检疫证明 Entry inspection and quarantine certificate'
        : ''
  const rows = v.fields
    .map((f) => `<tr><th>${esc(f.labelZh)}<br><small>${esc(f.labelEn)}</small></th><td>${esc(f.value)}</td></tr>`)
    .join('')
  const revoked = v.revokedAt
    ? `<p class="note">撤销时间 Revoked at: ${esc(chinaDateTime(v.revokedAt))}<br>原因 Reason: ${esc(REVOCATION_TEXT[v.revocationReason ?? ''] ?? v.revocationReason ?? '')}${v.replacedBy ? `<br>替代证明 Replaced by: ${esc(v.replacedBy)}` : ''}</p>`
    : ''
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>核验结果 Verification — ${esc(t.en)}</title>
<style>
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:0;background:#f4f4f6;color:#1a1a1e;line-height:1.45}
main{max-width:40rem;margin:0 auto;padding:1rem}
.verdict{background:${t.colour};color:#fff;border-radius:.6rem;padding:1rem 1.2rem;margin:.5rem 0 1rem}
.verdict h1{font-size:1.5rem;margin:0}.verdict p{margin:.2rem 0 0;font-size:1.05rem}
ul{padding-left:1.2rem}li{margin:.25rem 0}
table{width:100%;border-collapse:collapse;background:#fff;border-radius:.6rem;overflow:hidden}
th,td{text-align:left;vertical-align:top;padding:.55rem .7rem;border-bottom:1px solid #e4e4e8;word-break:break-word}
th{width:38%;font-weight:600;font-size:.9rem}small{color:#666;font-weight:400}
.note{background:#fff3e0;border-radius:.5rem;padding:.6rem .8rem}.meta{color:#555;font-size:.85rem}
</style></head><body><main>
<p class="meta">口岸 Kouan · ${esc(kind)}</p>
<section class="verdict"><h1>${esc(t.zh)}</h1><p>${esc(t.en)}</p></section>
<ul>${v.reasons.map((r) => `<li>${esc(REASON_TEXT[r].zh)}<br><small>${esc(REASON_TEXT[r].en)}</small></li>`).join('')}</ul>
${revoked}
${rows ? `<p>请与纸面内容逐项核对。 Compare with the paper, field by field.</p><table>${rows}</table>` : ''}
<p class="meta">${v.number ? `编号 No. ${esc(v.number)} · ` : ''}核验时间 Checked at ${esc(chinaDateTime(v.checkedAt))}${v.statusChecked ? ' · 已查询登记系统 registry consulted' : ''}<br>
结果反映核验时登记系统的状态。 The result reflects the registry at the time of the check.</p>
</main></body></html>`
}
