import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'
import fontkit from '@pdf-lib/fontkit'
import QRCode from 'qrcode'
import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  PDFRawStream,
  concatTransformationMatrix,
  decodePDFRawStream,
  drawObject,
  popGraphicsState,
  pushGraphicsState,
  rgb,
  type PDFFont,
  type PDFPage,
} from 'pdf-lib'
import { packageRoot } from './paths.js'

/**
 * Building blocks of Kouan's printed documents (certificates, archive printouts): A4 pages, bilingual label/value
 * grids, tables that break across pages, and a QR code drawn as a 1-bit image (one pixel per module, no
 * interpolation, so it prints sharp at any size). Text is set in WenQuanYi Micro Hei cut to GB 2312
 * (`reference-data/fonts`), of which each document embeds only the glyphs it uses.
 *
 * Output is deterministic for the same input: creation and modification dates come from the caller.
 */

export const A4: [number, number] = [595.28, 841.89]
const MARGIN = 40
const BOTTOM = 56
const INK = rgb(0.1, 0.1, 0.12)
const MUTED = rgb(0.38, 0.38, 0.42)
const RULE = rgb(0.75, 0.75, 0.78)

export const FONT_FILE = join(packageRoot(), 'reference-data', 'fonts', 'WenQuanYiMicroHei-GB2312.ttf')

// Parsing the 1.3 MB font takes milliseconds; it is parsed once per process and shared by every document
// (fontkit fonts are read-only once loaded; each document makes its own subset).
let font: { bytes: Uint8Array; engine: { create: () => unknown } } | undefined
function sharedFont() {
  if (!font) {
    const bytes = readFileSync(FONT_FILE)
    const parsed = fontkit.create(bytes) as ReturnType<typeof fontkit.create> & {
      glyphForCodePoint(cp: number): unknown
    }
    // The font has no layout tables (cut by scripts/subset-cjk-font.py), so shaping is one glyph per code point;
    // doing that directly spares fontkit's shaping engine, which dominated the time to render a page. pdf-lib
    // reads only `glyphs` of a layout.
    Object.defineProperty(parsed, 'layout', {
      value: (text: string) => ({ glyphs: Array.from(text, (ch) => parsed.glyphForCodePoint(ch.codePointAt(0)!)) }),
    })
    font = { bytes, engine: { create: () => parsed } }
  }
  return font
}

// Advance width of each character at size 1000. The font has no kerning or ligatures (layout tables were cut),
// so a string's width is the sum of its characters': measuring this way skips fontkit's shaping, which dominated
// the time to lay out a page.
const advances = new Map<string, number>()
function measurer(f: Pick<PDFFont, 'widthOfTextAtSize'>): Pick<PDFFont, 'widthOfTextAtSize'> {
  return {
    widthOfTextAtSize(text: string, size: number) {
      let w = 0
      for (const ch of text) {
        let a = advances.get(ch)
        if (a === undefined) {
          a = f.widthOfTextAtSize(ch, 1000)
          advances.set(ch, a)
        }
        w += a
      }
      return (w * size) / 1000
    },
  }
}

/** Splits text into lines that fit `width`: CJK breaks between any two characters, other scripts at spaces. */
export function wrapText(text: string, f: Pick<PDFFont, 'widthOfTextAtSize'>, size: number, width: number): string[] {
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ')
  const tokens =
    clean.match(
      /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+\s*|\s+/g,
    ) ?? []
  const lines: string[] = []
  let line = ''
  for (const tok of tokens) {
    if (f.widthOfTextAtSize((line + tok).trimEnd(), size) <= width || line === '') {
      // A single token wider than the line is cut by characters.
      if (line === '' && f.widthOfTextAtSize(tok.trimEnd(), size) > width) {
        let part = ''
        for (const ch of tok) {
          if (part && f.widthOfTextAtSize(part + ch, size) > width) {
            lines.push(part)
            part = ''
          }
          part += ch
        }
        line = part
      } else line += tok
      continue
    }
    lines.push(line.trimEnd())
    line = tok.trimStart()
  }
  if (line.trim() || lines.length === 0) lines.push(line.trimEnd())
  return lines
}

export interface Field {
  zh: string
  en: string
  value: string
}
export interface Column {
  zh: string
  en: string
  width: number
  align?: 'left' | 'right'
}

/** Document metadata; `keywords` carries the verification token so tools can read it without decoding the QR. */
export interface DocMeta {
  title: string
  subject: string
  keywords: string[]
  createdAt: Date
  footer: string
}

export class PdfWriter {
  page!: PDFPage
  y = 0
  /** Measures text like the font, without shaping (see {@link measurer}). */
  private readonly m: Pick<PDFFont, 'widthOfTextAtSize'>
  private constructor(
    readonly doc: PDFDocument,
    readonly font: PDFFont,
    private readonly meta: DocMeta,
  ) {
    this.m = measurer(font)
  }

  static async create(meta: DocMeta): Promise<PdfWriter> {
    const { bytes, engine } = sharedFont()
    const doc = await PDFDocument.create({ updateMetadata: false })
    // Compress embedded streams (the font subset, the QR image) with Node's zlib rather than pdf-lib's pako:
    // the same Flate format, several times faster, and deflate was the largest share of render time.
    const ctx = doc.context
    ctx.flateStream = (contents, dict = {}) =>
      ctx.stream(deflateSync(typeof contents === 'string' ? Buffer.from(contents, 'latin1') : contents), {
        ...dict,
        Filter: 'FlateDecode',
      })
    doc.registerFontkit(engine as Parameters<PDFDocument['registerFontkit']>[0])
    const f = await doc.embedFont(bytes, { subset: true })
    doc.setTitle(meta.title)
    doc.setSubject(meta.subject)
    doc.setKeywords(meta.keywords)
    doc.setProducer('Kouan')
    doc.setCreator('Kouan')
    doc.setCreationDate(meta.createdAt)
    doc.setModificationDate(meta.createdAt)
    const w = new PdfWriter(doc, f, meta)
    w.newPage()
    return w
  }

  get width() {
    return A4[0] - 2 * MARGIN
  }
  get left() {
    return MARGIN
  }

  newPage() {
    this.page = this.doc.addPage(A4)
    this.y = A4[1] - MARGIN
  }

  /** Starts a new page unless `height` points still fit above the footer. */
  ensure(height: number) {
    if (this.y - height < BOTTOM) this.newPage()
  }

  /** Draws wrapped text at the cursor and moves it down. */
  text(
    s: string,
    o: { size?: number; x?: number; width?: number; color?: 'ink' | 'muted'; center?: boolean; gap?: number } = {},
  ) {
    const size = o.size ?? 10
    const x = o.x ?? MARGIN
    const width = o.width ?? A4[0] - MARGIN - x
    const lead = size * 1.35
    for (const line of wrapText(s, this.m, size, width)) {
      this.ensure(lead)
      const dx = o.center ? (width - this.m.widthOfTextAtSize(line, size)) / 2 : 0
      this.page.drawText(line, {
        x: x + dx,
        y: this.y - size,
        size,
        font: this.font,
        color: o.color === 'muted' ? MUTED : INK,
      })
      this.y -= lead
    }
    this.y -= o.gap ?? 0
  }

  /** A bilingual title, centred. */
  title(zh: string, en: string) {
    this.text(zh, { size: 18, center: true, gap: 2 })
    this.text(en, { size: 11, center: true, color: 'muted', gap: 8 })
  }

  rule(gap = 6) {
    this.page.drawLine({
      start: { x: MARGIN, y: this.y },
      end: { x: A4[0] - MARGIN, y: this.y },
      thickness: 0.6,
      color: RULE,
    })
    this.y -= gap
  }

  /** Label/value pairs in `columns` columns; labels in Chinese over English, values wrapped. */
  fields(items: Field[], columns = 2, reserveRight = 0) {
    const colWidth = (this.width - reserveRight) / columns
    for (let i = 0; i < items.length; i += columns) {
      const row = items.slice(i, i + columns)
      const heights = row.map((f) => 22 + wrapText(f.value || '—', this.m, 10, colWidth - 8).length * 13.5)
      const h = Math.max(...heights)
      this.ensure(h)
      const top = this.y
      row.forEach((f, j) => {
        const x = MARGIN + j * colWidth
        this.y = top
        this.text(`${f.zh} ${f.en}`, { size: 7.5, x, width: colWidth - 8, color: 'muted' })
        this.text(f.value || '—', { size: 10, x, width: colWidth - 8 })
      })
      this.y = top - h
    }
  }

  /** A table with a bilingual header row, repeated on every page it spans. */
  table(cols: Column[], rows: string[][]) {
    const scale = this.width / cols.reduce((s, c) => s + c.width, 0)
    const widths = cols.map((c) => c.width * scale)
    const header = () => {
      this.ensure(40)
      const top = this.y
      let x = MARGIN
      cols.forEach((c, j) => {
        this.y = top
        this.text(c.zh, { size: 8, x: x + 2, width: widths[j]! - 4, color: 'muted' })
        this.text(c.en, { size: 7, x: x + 2, width: widths[j]! - 4, color: 'muted' })
        x += widths[j]!
      })
      this.y = top - 26
      this.rule(4)
    }
    header()
    for (const row of rows) {
      const lines = row.map((cell, j) => wrapText(cell, this.m, 9, widths[j]! - 4))
      const h = Math.max(...lines.map((l) => l.length)) * 12 + 4
      if (this.y - h < BOTTOM) {
        this.newPage()
        header()
      }
      const top = this.y
      let x = MARGIN
      lines.forEach((ls, j) => {
        ls.forEach((line, k) => {
          const dx = cols[j]!.align === 'right' ? widths[j]! - 4 - this.m.widthOfTextAtSize(line, 9) : 0
          this.page.drawText(line, { x: x + 2 + dx, y: top - 9 - k * 12, size: 9, font: this.font, color: INK })
        })
        x += widths[j]!
      })
      this.y = top - h
    }
    this.rule(8)
  }

  /**
   * Draws `payload` as a QR code (error correction M) of `size` points with its lower-left corner at (x, y) on the
   * current page, as an image XObject named `KouanQR`: one bit per module, quiet zone of four modules.
   */
  qr(payload: string, x: number, y: number, size: number) {
    const m = QRCode.create(payload, { errorCorrectionLevel: 'M' }).modules
    const quiet = 4
    const n = m.size + 2 * quiet
    const rowBytes = Math.ceil(n / 8)
    const bits = new Uint8Array(rowBytes * n).fill(0xff) // 1 = white in DeviceGray
    for (let r = 0; r < m.size; r++) {
      for (let c = 0; c < m.size; c++) {
        if (!m.data[r * m.size + c]) continue
        const col = c + quiet
        bits[(r + quiet) * rowBytes + (col >> 3)]! &= ~(0x80 >> (col & 7))
      }
    }
    const stream = this.doc.context.flateStream(bits, {
      Type: 'XObject',
      Subtype: 'Image',
      Width: n,
      Height: n,
      ColorSpace: 'DeviceGray',
      BitsPerComponent: 1,
    })
    const name = this.page.node.newXObject('KouanQR', this.doc.context.register(stream))
    this.page.pushOperators(
      pushGraphicsState(),
      concatTransformationMatrix(size, 0, 0, size, x, y),
      drawObject(name),
      popGraphicsState(),
    )
  }

  /** Attaches a file (e.g. the content a token's digest covers), so the document can be checked offline. */
  async attach(name: string, bytes: Uint8Array, description: string) {
    await this.doc.attach(bytes, name, {
      mimeType: 'application/json',
      description,
      creationDate: this.meta.createdAt,
      modificationDate: this.meta.createdAt,
    })
  }

  /** Page footers ("page n of N" and the document's footer line), then the bytes. */
  async save(): Promise<Uint8Array> {
    const pages = this.doc.getPages()
    pages.forEach((p, i) => {
      const label = `第 ${i + 1} 页 / 共 ${pages.length} 页   Page ${i + 1} of ${pages.length}`
      p.drawText(label, {
        x: A4[0] - MARGIN - this.m.widthOfTextAtSize(label, 7.5),
        y: 24,
        size: 7.5,
        font: this.font,
        color: MUTED,
      })
      for (const [k, line] of wrapText(this.meta.footer, this.m, 7.5, this.width - 150).entries()) {
        p.drawText(line, { x: MARGIN, y: 34 - k * 10, size: 7.5, font: this.font, color: MUTED })
      }
    })
    return this.doc.save({ useObjectStreams: true })
  }
}

/** The token a Kouan PDF carries in its keywords (`kouan-token:<token>`), if any. */
export async function tokenOfPdf(bytes: Uint8Array): Promise<{ token?: string; attachment?: Uint8Array }> {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false })
  const kw = doc.getKeywords() ?? ''
  const m = /kouan-token:(\S+)/.exec(kw)
  return { ...(m ? { token: m[1]! } : {}), ...attachmentOf(doc) }
}

// The first embedded file of the document (pdf-lib writes attachments but has no reader for them).
function attachmentOf(doc: PDFDocument): { attachment?: Uint8Array } {
  const files = doc.catalog
    .lookupMaybe(PDFName.of('Names'), PDFDict)
    ?.lookupMaybe(PDFName.of('EmbeddedFiles'), PDFDict)
    ?.lookupMaybe(PDFName.of('Names'), PDFArray)
  if (!files || files.size() < 2) return {}
  const ref = files.lookup(1, PDFDict).lookupMaybe(PDFName.of('EF'), PDFDict)?.get(PDFName.of('F'))
  const stream = ref && doc.context.lookup(ref)
  return stream instanceof PDFRawStream ? { attachment: decodePDFRawStream(stream).decode() } : {}
}
