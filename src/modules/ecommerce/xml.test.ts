import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fc, test } from '@fast-check/vitest'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { packageRoot } from '../../shared/paths.js'
import type { CebMessage, CebMessageType, CebProblem, Inventory, Order, Payment, Waybill } from './types.js'
import { CEB_NAMESPACE, ceb900Xml, cebReceiptXml, parseCebJson, parseCebXml, type CebParseResult } from './xml.js'

const TYPES = ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const
const example = (type: CebMessageType) =>
  readFileSync(join(packageRoot(), 'reference-data', 'ceb', 'examples', `${type}Message.xml`), 'utf8')
const ORDER = example('CEB311')
const INVENTORY = example('CEB621')

function ok(r: CebParseResult): CebMessage {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.problems, null, 1)}`)
  return r.message
}
function problems(r: CebParseResult): CebProblem[] {
  if (r.ok) throw new Error('expected problems, got a message')
  return r.problems
}
/** Replaces exactly one occurrence, so a test cannot silently edit nothing. */
function edit(xml: string, from: string | RegExp, to: string): string {
  const n = typeof from === 'string' ? xml.split(from).length - 1 : (xml.match(new RegExp(from, 'g')) ?? []).length
  if (n !== 1) throw new Error(`${String(from)} occurs ${n} times`)
  return xml.replace(from, to)
}
const formatAt = (pointer: string, message: string | RegExp) =>
  expect.objectContaining({
    code: 'FORMAT',
    pointer,
    message: typeof message === 'string' ? message : expect.stringMatching(message),
  })

const ORDER_BLOCK = /<ceb:Order>[\s\S]*<\/ceb:Order>/
const INVENTORY_BLOCK = /<ceb:Inventory>[\s\S]*<\/ceb:Inventory>/
const INVENTORY_LINE = /<ceb:InventoryList>[\s\S]*<\/ceb:InventoryList>/
const H = '/CEB311Message/Order/0/OrderHead'

describe('parseCebXml: the examples', () => {
  it.each(TYPES)('%s parses with no problems', (type) => {
    const m = ok(parseCebXml(example(type)))
    expect(m.type).toBe(type)
    expect(m.version).toBe('1.0')
    expect(m.documents).toHaveLength(1)
    expect(m.baseTransfer).toMatchObject({ dxpMode: 'DXP', note: '' })
  })

  it('keeps the order values as strings, empty elements as "", absent optional ones omitted', () => {
    const m = ok(parseCebXml(ORDER)) as CebMessage<'CEB311'>
    expect(m.guid).toBe('5F0C6A2E-9C1B-4B7E-8E8A-1D2C3B4A5F60')
    const o: Order = m.documents[0]!
    expect(o.head).toMatchObject({
      acturalPaid: '445.13',
      goodsValue: '398.00',
      discount: '0',
      taxTotal: '37.13',
      buyerName: '张三',
      note: '',
    })
    expect('batchNumbers' in o.head).toBe(false)
    expect(o.lines).toEqual([
      {
        gnum: '1',
        itemNo: 'SKU-NZ-FORMULA-800',
        itemName: '婴幼儿配方奶粉800克',
        gmodel: '800g/罐|1段|示例品牌',
        itemDescribe: '',
        barCode: '无',
        unit: '122',
        qty: '2',
        price: '199.00',
        totalPrice: '398.00',
        currency: '142',
        country: '609',
        note: '',
      },
    ])
    expect(m.baseTransfer).toEqual({
      copCode: '4601000EBC',
      copName: '示例电商企业有限公司',
      dxpMode: 'DXP',
      dxpId: 'DXPENT0000000001',
      note: '',
    })
  })

  it('reads payment, waybill and inventory values', () => {
    const p: Payment = (ok(parseCebXml(example('CEB411'))) as CebMessage<'CEB411'>).documents[0]!
    expect(p.head).toMatchObject({ amountPaid: '445.13', payTime: '20250818102958', payerIdType: '1' })
    expect(Object.keys(p)).toEqual(['head'])
    const w: Waybill = (ok(parseCebXml(example('CEB511'))) as CebMessage<'CEB511'>).documents[0]!
    expect(w.head).toMatchObject({ logisticsNo: 'YT0000000000001', weight: '1.90', packNo: '1', billNo: '' })
    const inv: Inventory = (ok(parseCebXml(INVENTORY)) as CebMessage<'CEB621'>).documents[0]!
    expect(inv.head).toMatchObject({
      tradeMode: '1210',
      declTime: '20250818',
      grossWeight: '1.90',
      netWeight: '1.60',
      preNo: '',
    })
    expect(inv.lines[0]).toMatchObject({
      gcode: '1901101000',
      qty1: '1.6',
      unit1: '035',
      qty2: '',
      unit2: '',
      price: '199.00',
    })
  })

  it('takes bytes, with or without a UTF-8 BOM', () => {
    const fromString = ok(parseCebXml(INVENTORY))
    expect(ok(parseCebXml(Buffer.from(INVENTORY)))).toEqual(fromString)
    expect(ok(parseCebXml(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(INVENTORY)])))).toEqual(
      fromString,
    )
  })
})

describe('parseCebXml: structure', () => {
  it('reads two documents in one message, in document order', () => {
    const second = ORDER.match(ORDER_BLOCK)![0].replace('SO202508180001', 'SO202508180002')
    const m = ok(parseCebXml(edit(ORDER, '</ceb:Order>', `</ceb:Order>\n${second}`))) as CebMessage<'CEB311'>
    expect(m.documents.map((d) => d.head.orderNo)).toEqual(['SO202508180001', 'SO202508180002'])
  })

  it('points into the right document and line', () => {
    const line = INVENTORY.match(INVENTORY_LINE)![0]
    const bad = line.replace('<ceb:gnum>1</ceb:gnum>', '<ceb:gnum>3</ceb:gnum>').replace('1901101000', '19011010')
    const doc2 = INVENTORY.match(INVENTORY_BLOCK)![0].replace(INVENTORY_LINE, `${line}\n${line}\n${bad}`)
    const r = parseCebXml(edit(INVENTORY, '</ceb:Inventory>', `</ceb:Inventory>\n${doc2}`))
    expect(problems(r)).toEqual([
      {
        code: 'FORMAT',
        message: 'gcode must be exactly 10 characters (C10)',
        pointer: '/CEB621Message/Inventory/1/InventoryList/2/gcode',
      },
    ])
  })

  it('reports a missing required element with its exact pointer', () => {
    expect(problems(parseCebXml(edit(ORDER, '<ceb:orderNo>SO202508180001</ceb:orderNo>', '')))).toEqual([
      { code: 'FORMAT', message: 'orderNo is required', pointer: `${H}/orderNo` },
    ])
    expect(
      problems(parseCebXml(edit(ORDER, '<ceb:orderNo>SO202508180001</ceb:orderNo>', '<ceb:orderNo>  </ceb:orderNo>'))),
    ).toEqual([{ code: 'FORMAT', message: 'orderNo is required', pointer: `${H}/orderNo` }])
    expect(problems(parseCebXml(edit(ORDER, /<ceb:copCode>.*<\/ceb:copCode>/, '')))).toEqual([
      { code: 'FORMAT', message: 'copCode is required', pointer: '/CEB311Message/BaseTransfer/copCode' },
    ])
  })

  it('reports an oversize value', () => {
    const r = parseCebXml(edit(ORDER, 'SO202508180001</ceb:orderNo>', `${'S'.repeat(61)}</ceb:orderNo>`))
    expect(problems(r)).toEqual([
      { code: 'FORMAT', message: 'orderNo must be at most 60 characters (C..60)', pointer: `${H}/orderNo` },
    ])
    // The inventory's orderNo is C..60? (unconfirmed): 61 passes, past the widened limit fails.
    const inv = (n: number) =>
      parseCebXml(edit(INVENTORY, 'SO202508180001</ceb:orderNo>', `${'S'.repeat(n)}</ceb:orderNo>`))
    expect(inv(61).ok).toBe(true)
    expect(problems(inv(121))).toEqual([
      {
        code: 'FORMAT',
        message: 'orderNo must be at most 120 characters (C..60?: length unconfirmed, limit widened)',
        pointer: '/CEB621Message/Inventory/0/InventoryHead/orderNo',
      },
    ])
  })

  it.each([
    ['1.234', 'goodsValue must be a decimal with at most 2 places (N19,2)'],
    ['-1', 'goodsValue must be a non-negative decimal such as 12.50 (N19,2)'],
    ['1e3', 'goodsValue must be a non-negative decimal such as 12.50 (N19,2)'],
  ])('rejects goodsValue %s (N19,2)', (v, message) => {
    const r = parseCebXml(edit(ORDER, '398.00</ceb:goodsValue>', `${v}</ceb:goodsValue>`))
    expect(problems(r)).toEqual([{ code: 'FORMAT', message, pointer: `${H}/goodsValue` }])
  })

  it('reports every problem of a message at once', () => {
    const xml = edit(
      edit(edit(ORDER, '<ceb:appType>1<', '<ceb:appType>4<'), '20250818103000<', '20251318103000<'),
      '<ceb:freight>10.00<',
      '<ceb:freight>ten<',
    )
    expect(problems(parseCebXml(xml)).map((p) => p.pointer)).toEqual([`${H}/appType`, `${H}/appTime`, `${H}/freight`])
  })

  it('needs a head, a line for orders, BaseTransfer, and one of each where one is meant', () => {
    expect(problems(parseCebXml(edit(ORDER, /<ceb:OrderList>[\s\S]*<\/ceb:OrderList>/, '')))).toEqual([
      { code: 'FORMAT', message: 'at least one OrderList is required', pointer: '/CEB311Message/Order/0/OrderList' },
    ])
    expect(problems(parseCebXml(edit(ORDER, /<ceb:BaseTransfer>[\s\S]*<\/ceb:BaseTransfer>/, '')))).toEqual([
      { code: 'FORMAT', message: 'BaseTransfer is required', pointer: '/CEB311Message/BaseTransfer' },
    ])
    expect(problems(parseCebXml(edit(ORDER, ORDER_BLOCK, '')))).toEqual([
      { code: 'FORMAT', message: 'at least one Order is required', pointer: '/CEB311Message/Order' },
    ])
    const head = ORDER.match(/<ceb:OrderHead>[\s\S]*<\/ceb:OrderHead>/)![0]
    expect(problems(parseCebXml(edit(ORDER, '</ceb:OrderHead>', `</ceb:OrderHead>${head}`)))).toEqual([
      { code: 'FORMAT', message: 'Order must have exactly one OrderHead', pointer: '/CEB311Message/Order/0/OrderHead' },
    ])
    expect(
      problems(
        parseCebXml(
          edit(
            ORDER,
            '<ceb:buyerName>张三</ceb:buyerName>',
            '<ceb:buyerName>张三</ceb:buyerName><ceb:buyerName>李四</ceb:buyerName>',
          ),
        ),
      ),
    ).toEqual([
      { code: 'FORMAT', message: 'buyerName must occur at most once in OrderHead', pointer: `${H}/buyerName` },
    ])
    expect(problems(parseCebXml(edit(ORDER, /<ceb:guid>5F0C[^<]*<\/ceb:guid>/, '')))).toEqual([
      { code: 'FORMAT', message: 'guid is required', pointer: `${H}/guid` },
    ])
  })

  it('rejects unknown elements, attributes and stray text instead of dropping them', () => {
    expect(
      problems(
        parseCebXml(
          edit(
            ORDER,
            '<ceb:note></ceb:note>\n    </ceb:OrderHead>',
            '<ceb:note></ceb:note><ceb:remark>x</ceb:remark></ceb:OrderHead>',
          ),
        ),
      ),
    ).toEqual([{ code: 'FORMAT', message: 'remark is not an element of OrderHead', pointer: `${H}/remark` }])
    expect(problems(parseCebXml(edit(ORDER, '<ceb:orderNo>', '<ceb:orderNo id="1">')))).toEqual([
      { code: 'FORMAT', message: 'orderNo takes no attribute id', pointer: `${H}/orderNo/@id` },
    ])
    expect(problems(parseCebXml(edit(ORDER, '<ceb:OrderHead>', '<ceb:OrderHead>stray')))).toEqual([
      { code: 'FORMAT', message: 'OrderHead may contain elements only, not text', pointer: H },
    ])
    expect(
      problems(
        parseCebXml(
          edit(ORDER, '<ceb:orderNo>SO202508180001</ceb:orderNo>', '<ceb:orderNo>SO<ceb:b>2</ceb:b></ceb:orderNo>'),
        ),
      ),
    ).toEqual([
      { code: 'FORMAT', message: 'orderNo must contain text only', pointer: `${H}/orderNo` },
      { code: 'FORMAT', message: 'orderNo is required', pointer: `${H}/orderNo` },
    ])
    expect(problems(parseCebXml(edit(ORDER, 'version="1.0" xmlns', 'version="1.0" mode="x" xmlns')))).toEqual([
      { code: 'FORMAT', message: 'CEB311Message takes no attribute mode', pointer: '/CEB311Message/@mode' },
    ])
    expect(problems(parseCebXml(edit(ORDER, ' guid="5F0C6A2E-9C1B-4B7E-8E8A-1D2C3B4A5F60"', '')))).toEqual([
      { code: 'FORMAT', message: 'guid is required', pointer: '/CEB311Message/@guid' },
    ])
  })

  it('decodes the predefined entities and character references, and keeps CDATA literal', () => {
    const xml = edit(
      ORDER,
      '<ceb:note></ceb:note>\n    </ceb:OrderHead>',
      '<ceb:note>a&amp;b &lt;&#x4E2D;&#65;&quot;&amp;lt;&#x1F600;<![CDATA[&e; <x>]]></ceb:note></ceb:OrderHead>',
    )
    expect((ok(parseCebXml(xml)) as CebMessage<'CEB311'>).documents[0]!.head.note).toBe('a&b <中A"&lt;😀&e; <x>')
  })

  it('accepts an XML-DSig Signature after BaseTransfer', () => {
    const signed = edit(
      ORDER,
      '</ceb:CEB311Message>',
      '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature></ceb:CEB311Message>',
    )
    expect(ok(parseCebXml(signed))).toEqual(ok(parseCebXml(ORDER)))
  })

  it('refuses more documents than maxDocuments', () => {
    const block = ORDER.match(ORDER_BLOCK)![0]
    const three = edit(ORDER, ORDER_BLOCK, `${block}${block}${block}`)
    expect(problems(parseCebXml(three, { maxDocuments: 2 }))).toEqual([
      { code: 'FORMAT', message: 'a message may carry at most 2 documents', pointer: '/CEB311Message/Order' },
    ])
    expect(ok(parseCebXml(three, { maxDocuments: 3 })).documents).toHaveLength(3)
  })
})

describe('parseCebXml: namespaces', () => {
  it('accepts any prefix bound to the CEB namespace, and the default namespace', () => {
    const expected = ok(parseCebXml(ORDER))
    expect(ok(parseCebXml(ORDER.replace(/ceb:/g, 'c:').replace('xmlns:ceb=', 'xmlns:c=')))).toEqual(expected)
    expect(ok(parseCebXml(ORDER.replace(/ceb:/g, '').replace('xmlns:ceb=', 'xmlns=')))).toEqual(expected)
    // A child may rebind a prefix to the same namespace.
    expect(
      ok(
        parseCebXml(
          edit(
            ORDER,
            '<ceb:orderNo>SO202508180001</ceb:orderNo>',
            `<o:orderNo xmlns:o="${CEB_NAMESPACE}">SO202508180001</o:orderNo>`,
          ),
        ),
      ),
    ).toEqual(expected)
  })

  it('refuses a wrong namespace', () => {
    const r = parseCebXml(
      ORDER.replace('xmlns:ceb="http://www.chinaport.gov.cn/ceb"', 'xmlns:ceb="http://www.chinaport.gov.cn/CEB"'),
    )
    expect(problems(r)).toEqual([
      formatAt(
        '/',
        'root element CEB311Message is in namespace http://www.chinaport.gov.cn/CEB; expected http://www.chinaport.gov.cn/ceb',
      ),
    ])
  })

  it('refuses no namespace', () => {
    const r = parseCebXml(ORDER.replace(/ceb:/g, '').replace(' xmlns:ceb="http://www.chinaport.gov.cn/ceb"', ''))
    expect(problems(r)).toEqual([
      formatAt('/', 'root element CEB311Message has no namespace; expected http://www.chinaport.gov.cn/ceb'),
    ])
  })

  it('refuses an undeclared prefix', () => {
    expect(problems(parseCebXml(ORDER.replace(' xmlns:ceb="http://www.chinaport.gov.cn/ceb"', '')))).toEqual([
      formatAt('/', 'namespace prefix ceb of ceb:CEB311Message is not declared'),
    ])
  })

  it('refuses an unknown root', () => {
    expect(problems(parseCebXml(ORDER.replace(/CEB311Message/g, 'CEB303Message')))).toEqual([
      formatAt(
        '/',
        'unknown root element CEB303Message; expected one of CEB311Message, CEB411Message, CEB511Message, CEB621Message',
      ),
    ])
    expect(problems(parseCebXml(`<ceb:CEB312Message xmlns:ceb="${CEB_NAMESPACE}"/>`))).toEqual([
      formatAt('/', /^unknown root element CEB312Message/),
    ])
  })

  it('checks the namespace of every element, not only the root', () => {
    const foreign = edit(
      ORDER,
      '<ceb:orderNo>SO202508180001</ceb:orderNo>',
      '<o:orderNo xmlns:o="urn:other">SO202508180001</o:orderNo>',
    )
    expect(problems(parseCebXml(foreign))).toContainEqual(
      formatAt(`${H}/orderNo`, 'o:orderNo is not in the CEB namespace http://www.chinaport.gov.cn/ceb'),
    )
    const foreignDoc = edit(ORDER, '<ceb:Order>', '<ceb:Order xmlns:ceb="urn:other">')
    expect(problems(parseCebXml(foreignDoc))).toContainEqual(
      formatAt('/CEB311Message/Order', 'unexpected element ceb:Order in CEB311Message'),
    )
  })
})

describe('parseCebXml: safety', () => {
  it('refuses XXE before parsing', () => {
    const xxe = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<x>&e;</x>'
    expect(problems(parseCebXml(xxe))).toEqual([formatAt('/', /^DTDs are not allowed: <!DOCTYPE at line 2, column 1/)])
    const inExample = edit(
      ORDER,
      '<ceb:CEB311Message',
      '<!DOCTYPE ceb:CEB311Message [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<ceb:CEB311Message',
    )
    const r = problems(parseCebXml(edit(inExample, 'user_10086', '&e;')))
    expect(r).toEqual([formatAt('/', /DTDs are not allowed/)])
    expect(JSON.stringify(r)).not.toMatch(/root:/)
  })

  it('refuses billion laughs without expanding it', () => {
    const lols = ['<!ENTITY lol "lol">']
    for (let i = 1; i <= 9; i++) lols.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`)
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n${lols.join('\n')}\n]>\n<lolz>&lol9;</lolz>`
    const r = problems(parseCebXml(bomb))
    expect(r).toEqual([formatAt('/', /^DTDs are not allowed/)])
    expect(JSON.stringify(r)).not.toContain('lollol')
  })

  it('refuses a lone ENTITY declaration and other markup declarations', () => {
    expect(problems(parseCebXml(edit(ORDER, '<ceb:Order>', '<!ENTITY x "y"><ceb:Order>')))).toEqual([
      formatAt('/', /^DTDs are not allowed: <!ENTITY at line 6/),
    ])
    // Inside comments and CDATA the same characters are only text.
    const commented = edit(ORDER, '<ceb:Order>', '<!-- <!DOCTYPE x> <?pi?> --><ceb:Order>')
    expect(ok(parseCebXml(commented))).toEqual(ok(parseCebXml(ORDER)))
  })

  it('refuses entities other than the five predefined ones', () => {
    expect(problems(parseCebXml(edit(ORDER, 'user_10086', 'user&nbsp;')))).toEqual([
      formatAt('/', /^XML is not well-formed at line 24, column \d+: undefined entity &nbsp;$/),
    ])
    expect(problems(parseCebXml(edit(ORDER, 'user_10086', 'user&#0;')))).toEqual([
      formatAt(`${H}/buyerRegNo`, /^XML is not well-formed at line 24, column \d+: malformed character entity &#0;$/),
    ])
    expect(problems(parseCebXml(edit(ORDER, 'user_10086', 'user&#xFFFE;')))).toEqual([
      formatAt(
        `${H}/buyerRegNo`,
        /^XML is not well-formed at line 24, column \d+: malformed character entity &#xFFFE;$/,
      ),
    ])
    expect(problems(parseCebXml(edit(ORDER, 'user_10086', 'user&#99999999999;')))).toEqual([
      formatAt(
        `${H}/buyerRegNo`,
        /^XML is not well-formed at line 24, column \d+: malformed character entity &#99999999999;$/,
      ),
    ])
    expect(problems(parseCebXml(edit(ORDER, 'user_10086', 'user&#xZZ;')))).toEqual([
      formatAt(`${H}/buyerRegNo`, /^XML is not well-formed at line 24/),
    ])
  })

  it('refuses processing instructions but allows the XML declaration', () => {
    expect(problems(parseCebXml(edit(ORDER, '<ceb:Order>', '<?php echo 1 ?><ceb:Order>')))).toEqual([
      formatAt(
        '/',
        'processing instructions are not allowed (line 6, column 3); only the XML declaration may open the message',
      ),
    ])
    expect(problems(parseCebXml(`<?xml-stylesheet href="x"?>${ORDER.slice(ORDER.indexOf('?>') + 2)}`))).toEqual([
      formatAt('/', /^processing instructions/),
    ])
    expect(ok(parseCebXml(ORDER.slice(ORDER.indexOf('?>') + 2).trimStart())).type).toBe('CEB311')
  })

  it('gives line and column of malformed XML', () => {
    const r = parseCebXml(
      edit(ORDER, '<ceb:orderNo>SO202508180001</ceb:orderNo>', '<ceb:orderNo>SO202508180001</ceb:orderNO>'),
    )
    expect(problems(r)).toEqual([
      formatAt('/', /^XML is not well-formed at line 13, column \d+: unexpected close tag$/),
    ])
    expect(problems(parseCebXml(''))).toEqual([formatAt('/', /^XML is not well-formed at line 1/)])
    expect(problems(parseCebXml('<a>1</a><b>2</b>'))).toEqual([
      formatAt('/', /^XML is not well-formed at line 1, column 11: documents may contain only one root$/),
    ])
    expect(problems(parseCebXml('<a>1</a><b/>'))).toEqual([
      formatAt('/', /^XML is not well-formed at line 1, column 11: documents may contain only one root$/),
    ])
    expect(problems(parseCebXml(`${ORDER}<x/>`))).toEqual([
      formatAt('/', /^XML is not well-formed at line \d+, column \d+: documents may contain only one root$/),
    ])
  })

  it('refuses characters XML does not allow', () => {
    expect(problems(parseCebXml(edit(ORDER, 'user_10086', 'user\u0001')))).toEqual([
      formatAt(`${H}/buyerRegNo`, 'character U+0001 is not allowed in XML (line 24, column 27)'),
    ])
  })

  it('refuses input over maxBytes, counting UTF-8 bytes', () => {
    const bytes = Buffer.byteLength(ORDER)
    expect(problems(parseCebXml(ORDER, { maxBytes: bytes - 1 }))).toEqual([
      formatAt('/', `message exceeds ${bytes - 1} bytes`),
    ])
    expect(ok(parseCebXml(ORDER, { maxBytes: bytes })).type).toBe('CEB311')
    expect(ORDER.length).toBeLessThan(bytes - 1) // the Chinese text makes bytes exceed characters
    expect(problems(parseCebXml(Buffer.from(ORDER), { maxBytes: 1000 }))).toEqual([
      formatAt('/', `message exceeds 1000 bytes (${bytes} bytes)`),
    ])
    const huge = ORDER.replace('<ceb:note></ceb:note>', `<ceb:note>${'x'.repeat(10 * 1024 * 1024)}</ceb:note>`)
    expect(problems(parseCebXml(huge))).toEqual([formatAt('/', 'message exceeds 10485760 bytes')])
  })

  it('refuses bytes that are not UTF-8', () => {
    expect(problems(parseCebXml(Buffer.from(ORDER.replace('UTF-8', 'GBK'))))).toEqual([
      formatAt('/', 'message must be encoded in UTF-8, not GBK'),
    ])
    const broken = Buffer.concat([
      Buffer.from(ORDER.slice(0, 300)),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(ORDER.slice(300)),
    ])
    // In the opening comment, before any element: the whole message.
    expect(problems(parseCebXml(broken))).toEqual([
      formatAt('/', 'message is not valid UTF-8 at byte 308 (line 4, column 81)'),
    ])
    expect(problems(parseCebXml(Buffer.from(`\ufeff${ORDER}`, 'utf16le')))).toEqual([
      formatAt('/', 'message must be encoded in UTF-8, not UTF-16'),
    ])
  })

  it('refuses deep nesting and non-XML input without throwing', () => {
    const deep = edit(
      ORDER,
      '<ceb:note></ceb:note>\n    </ceb:OrderHead>',
      `<ceb:note>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</ceb:note></ceb:OrderHead>`,
    )
    expect(problems(parseCebXml(deep))).toEqual([formatAt('/', /nested tags/)])
    expect(problems(parseCebXml(42 as unknown as string))).toEqual([formatAt('/', 'message must be XML text or bytes')])
  })

  test.prop([fc.oneof(fc.string({ maxLength: 2000 }), fc.string({ unit: 'binary', maxLength: 500 }))])(
    'never throws on arbitrary strings',
    (s) => {
      const r = parseCebXml(s)
      if (!r.ok) {
        expect(r.problems.length).toBeGreaterThan(0)
        for (const p of r.problems) {
          expect(p.code).toBe('FORMAT')
          expect(p.pointer.startsWith('/')).toBe(true)
          expect(p.message.length).toBeGreaterThan(0)
        }
      } else expect(TYPES).toContain(r.message.type)
    },
  )

  test.prop([fc.uint8Array({ maxLength: 500 })])('never throws on arbitrary bytes', (bytes) => {
    const r = parseCebXml(Buffer.from(bytes))
    expect(r.ok || r.problems.every((p) => p.pointer.startsWith('/') && p.code === 'FORMAT')).toBe(true)
  })

  const xmlish = fc.string({
    unit: fc.constantFrom(
      '<',
      '>',
      '/',
      '&',
      ';',
      '"',
      '=',
      ' ',
      '\n',
      'ceb:',
      'xmlns:ceb',
      CEB_NAMESPACE,
      'CEB311Message',
      'Order',
      'OrderHead',
      'OrderList',
      'BaseTransfer',
      '<!',
      '<?',
      '#x41',
      'amp',
      '<![CDATA[',
      ']]>',
      '-->',
      'x',
      '1',
    ),
    maxLength: 200,
  })
  test.prop([xmlish])('never throws on XML-like noise', (s) => {
    const r = parseCebXml(s)
    expect(r.ok || r.problems.every((p) => p.pointer.startsWith('/') && p.code === 'FORMAT')).toBe(true)
  })

  test.prop([fc.nat(ORDER.length), fc.nat(40), xmlish])('never throws on a damaged example', (at, cut, insert) => {
    const r = parseCebXml(ORDER.slice(0, at) + insert + ORDER.slice(at + cut))
    expect(r.ok || r.problems.every((p) => p.pointer.startsWith('/') && p.code === 'FORMAT')).toBe(true)
  })
})

// Issue 10, finding 6 (the XML side): NUL and lone surrogates gave 500s elsewhere, or were stored as U+FFFD. In CEB
// content they are refused as FORMAT with a pointer to the element that holds them, whatever form they come in.
describe('NUL and lone surrogates in CEB content', () => {
  const inBuyerName = (s: string) => edit(ORDER, '<ceb:buyerName>', `<ceb:buyerName>${s}`)
  it.each([
    ['a character reference to a lone surrogate', '&#xD800;', /malformed character entity &#xD800;/],
    ['a character reference to a low surrogate', '&#56320;', /malformed character entity &#56320;/],
    ['a character reference to NUL', '&#0;', /malformed character entity &#0;/],
    ['a raw NUL', '\u0000', /character U\+0000 is not allowed in XML \(line 25, column 22\)/],
    ['a raw lone surrogate (in a decoded string)', '\uDC00', /character U\+DC00 is not allowed in XML/],
  ])('%s: FORMAT at the element', (_name, text, message) => {
    for (const input of [inBuyerName(text), Buffer.from(inBuyerName(text), 'utf8')]) {
      // (A lone surrogate cannot be encoded in UTF-8: Buffer.from writes U+FFFD for it, which is valid text.)
      if (Buffer.isBuffer(input) && /\uDC00/.test(text)) continue
      expect(problems(parseCebXml(input))).toEqual([formatAt(`${H}/buyerName`, message)])
    }
  })

  it('finds the element in later documents and lines, and in BaseTransfer', () => {
    const block = INVENTORY.match(INVENTORY_BLOCK)![0]
    const two = edit(INVENTORY, block, `${block}\n${block.replace('<ceb:gname>', '<ceb:gname>&#xDFFF;')}`) // second Inventory, first line
    expect(problems(parseCebXml(two))).toEqual([
      formatAt('/CEB621Message/Inventory/1/InventoryList/0/gname', /malformed character entity/),
    ])
    expect(problems(parseCebXml(edit(ORDER, '<ceb:copName>', '<ceb:copName>\u0000')))).toEqual([
      formatAt('/CEB311Message/BaseTransfer/copName', /U\+0000/),
    ])
  })

  it('refuses the UTF-8 bytes of a surrogate (CESU-8 style) at the element, with the byte offset', () => {
    const bytes = Buffer.from(inBuyerName('@@@'), 'utf8')
    const at = bytes.indexOf('@@@')
    bytes[at] = 0xed
    bytes[at + 1] = 0xa0
    bytes[at + 2] = 0x80 // U+D800 as UTF-8 would spell it
    expect(problems(parseCebXml(bytes))).toEqual([
      formatAt(`${H}/buyerName`, `message is not valid UTF-8 at byte ${at} (line 25, column 22)`),
    ])
  })

  it('refuses them in the JSON form too, at the property, never storing U+FFFD', () => {
    const json = (value: string) => {
      const m = ok(parseCebXml(ORDER)) as unknown as { documents: Array<{ head: Record<string, string> }> }
      m.documents[0]!.head.buyerName = value
      return parseCebJson('CEB311', JSON.parse(JSON.stringify(m)))
    }
    expect(problems(json('张\u0000三'))).toEqual([
      formatAt('/documents/0/head/buyerName', 'buyerName contains U+0000, which CEB text cannot carry'),
    ])
    expect(problems(json('张\uD800三'))).toEqual([
      formatAt('/documents/0/head/buyerName', 'buyerName contains U+D800, which CEB text cannot carry'),
    ])
    expect(problems(json('bell\u0007'))).toEqual([
      formatAt('/documents/0/head/buyerName', 'buyerName contains U+0007, which CEB text cannot carry'),
    ])
    expect(ok(json('张三 😀')).documents[0]!.head).toMatchObject({ buyerName: '张三 😀' }) // a valid pair is text
  })
})

describe('parseCebJson', () => {
  const jsonOf = (m: CebMessage) => {
    const { type: _type, ...rest } = m
    return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>
  }
  const orderJson = () =>
    jsonOf(ok(parseCebXml(ORDER))) as {
      guid: string
      documents: Array<{ head: Record<string, unknown>; lines: Array<Record<string, unknown>> }>
      baseTransfer: Record<string, unknown>
    } & Record<string, unknown>

  it.each(TYPES)('reads %s the same as the XML form', (type) => {
    const m = ok(parseCebXml(example(type)))
    expect(ok(parseCebJson(type, jsonOf(m)))).toEqual(m)
    // A serialised CebMessage, type included, reads back too.
    expect(ok(parseCebJson(type, JSON.parse(JSON.stringify(m))))).toEqual(m)
  })

  it('refuses unknown keys at every level', () => {
    const j = orderJson()
    j.extra = 1
    j.documents[0]!.head.orderno = 'x'
    j.documents[0]!.lines[0]!.sku = 'x'
    j.documents[0]!.lines.push({ ...j.documents[0]!.lines[0], sku: undefined, gnum: '2', colour: 'red' })
    j.baseTransfer.dxpid = 'x'
    expect(problems(parseCebJson('CEB311', j))).toEqual([
      { code: 'FORMAT', message: 'extra is not part of a CEB311 message', pointer: '/extra' },
      { code: 'FORMAT', message: 'orderno is not an element of OrderHead', pointer: '/documents/0/head/orderno' },
      { code: 'FORMAT', message: 'sku is not an element of OrderList', pointer: '/documents/0/lines/0/sku' },
      { code: 'FORMAT', message: 'sku is not an element of OrderList', pointer: '/documents/0/lines/1/sku' },
      { code: 'FORMAT', message: 'colour is not an element of OrderList', pointer: '/documents/0/lines/1/colour' },
      { code: 'FORMAT', message: 'dxpid is not an element of BaseTransfer', pointer: '/baseTransfer/dxpid' },
    ])
    expect(
      problems(parseCebJson('CEB311', { ...orderJson(), documents: [{ ...orderJson().documents[0], foot: {} }] })),
    ).toEqual([{ code: 'FORMAT', message: 'foot is not part of Order', pointer: '/documents/0/foot' }])
  })

  it('refuses numbers for amounts, a wrong type, missing parts', () => {
    const j = orderJson()
    j.documents[0]!.head.acturalPaid = 445.13
    expect(problems(parseCebJson('CEB311', j))).toEqual([
      { code: 'FORMAT', message: 'acturalPaid must be a string', pointer: '/documents/0/head/acturalPaid' },
    ])
    expect(problems(parseCebJson('CEB311', { ...orderJson(), type: 'CEB411' }))).toEqual([
      { code: 'FORMAT', message: 'type must be CEB311', pointer: '/type' },
    ])
    expect(problems(parseCebJson('CEB311', { guid: 'G' }))).toEqual([
      { code: 'FORMAT', message: 'documents must be an array of at least one document', pointer: '/documents' },
      { code: 'FORMAT', message: 'baseTransfer is required', pointer: '/baseTransfer' },
    ])
    expect(problems(parseCebJson('CEB311', { ...orderJson(), guid: undefined }))).toEqual([
      { code: 'FORMAT', message: 'guid is required', pointer: '/guid' },
    ])
    expect(problems(parseCebJson('CEB311', [orderJson()]))).toEqual([
      { code: 'FORMAT', message: 'message must be a JSON object', pointer: '/' },
    ])
    const many = orderJson()
    many.documents = [many.documents[0]!, many.documents[0]!, many.documents[0]!]
    expect(problems(parseCebJson('CEB311', many, { maxDocuments: 2 }))).toEqual([
      { code: 'FORMAT', message: 'a message may carry at most 2 documents', pointer: '/documents' },
    ])
  })

  it('returns fresh objects with only the known fields, in spec order', () => {
    const j = orderJson()
    const head = j.documents[0]!.head
    j.documents[0]!.head = Object.fromEntries(Object.entries(head).reverse())
    const m = ok(parseCebJson('CEB311', j)) as CebMessage<'CEB311'>
    expect(Object.keys(m.documents[0]!.head)).toEqual(Object.keys(head))
    expect(m.documents[0]!.head).not.toBe(j.documents[0]!.head)
  })

  test.prop([fc.anything()])('never throws on arbitrary values', (v) => {
    for (const type of TYPES) {
      const r = parseCebJson(type, v)
      expect(r.ok || r.problems.every((p) => p.pointer.startsWith('/') && p.code === 'FORMAT')).toBe(true)
    }
  })
})

describe('receipts', () => {
  const reader = new XMLParser({
    ignoreAttributes: false,
    removeNSPrefix: true,
    parseTagValue: false,
    trimValues: false,
    isArray: (name) => name.endsWith('Return'),
  })
  /** Parses receipt XML back into records (whitespace between elements dropped). */
  function readReceipts(
    xml: string,
    root: string,
    node: string,
  ): { attrs: Record<string, string>; items: Record<string, string>[] } {
    expect(XMLValidator.validate(xml)).toBe(true)
    expect(xml).toContain(`xmlns:ceb="${CEB_NAMESPACE}"`)
    const doc = reader.parse(xml) as Record<string, Record<string, unknown>>
    const r = doc[root]!
    const attrs = Object.fromEntries(
      Object.entries(r)
        .filter(([k]) => k.startsWith('@_'))
        .map(([k, v]) => [k.slice(2), v as string]),
    )
    const items = (r[node] as Array<Record<string, string>>).map((i) =>
      Object.fromEntries(Object.entries(i).filter(([k]) => k !== '#text')),
    )
    return { attrs, items }
  }

  const orderReceipt = {
    guid: '5F0C6A2E-9C1B-4B7E-8E8A-1D2C3B4A5F60',
    ebpCode: '4601000EBP',
    ebcCode: '4601000EBC',
    orderNo: 'SO202508180001',
    returnStatus: '120',
    returnTime: '20250818103005123',
    returnInfo: '逻辑校验通过 <&>"\'',
  }

  it('writes CEB312 receipts that parse back, fields in spec order', () => {
    const second = {
      ...orderReceipt,
      orderNo: 'SO2',
      returnStatus: '100',
      returnInfo: '[Code:13035;Desc:支付企业不一致]',
    }
    const xml = cebReceiptXml('CEB312', [{ ...orderReceipt, returnInfo: orderReceipt.returnInfo }, second], {
      guid: 'A0000000-0000-0000-0000-000000000001',
    })
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<ceb:CEB312Message guid="A0000000-0000-0000-0000-000000000001" version="1.0"/,
    )
    const back = readReceipts(xml, 'CEB312Message', 'OrderReturn')
    expect(back.attrs).toEqual({ guid: 'A0000000-0000-0000-0000-000000000001', version: '1.0' })
    expect(back.items).toEqual([orderReceipt, second])
    expect(Object.keys(back.items[0]!)).toEqual([
      'guid',
      'ebpCode',
      'ebcCode',
      'orderNo',
      'returnStatus',
      'returnTime',
      'returnInfo',
    ])
    expect(xml).toContain('&lt;&amp;&gt;&quot;&apos;')
  })

  it.each([
    [
      'CEB412',
      'PaymentReturn',
      {
        guid: 'G',
        payCode: 'P',
        payTransactionId: 'T',
        returnStatus: '2',
        returnTime: '20250818103005123',
        returnInfo: 'ok',
      },
    ],
    [
      'CEB512',
      'LogisticsReturn',
      {
        guid: 'G',
        logisticsCode: 'L',
        logisticsNo: 'N',
        returnStatus: '-304001',
        returnTime: '20250818103005123',
        returnInfo: 'dup',
      },
    ],
    [
      'CEB622',
      'InventoryReturn',
      {
        guid: 'G',
        customsCode: '6409',
        ebpCode: 'E',
        copNo: 'C',
        preNo: '',
        returnStatus: '800',
        returnTime: '20250818103005123',
        returnInfo: '放行',
      },
    ],
  ] as const)('writes %s receipts that parse back', (kind, node, receipt) => {
    const back = readReceipts(cebReceiptXml(kind, [receipt]), `${kind}Message`, node)
    expect(back.items).toEqual([receipt])
    expect(back.attrs).toEqual({ version: '1.0' })
  })

  test.prop([fc.string({ unit: 'grapheme', maxLength: 200 }).filter((s) => !s.includes('\r'))])(
    'round-trips any returnInfo',
    (info) => {
      const back = readReceipts(
        cebReceiptXml('CEB312', [{ ...orderReceipt, returnInfo: info }]),
        'CEB312Message',
        'OrderReturn',
      )
      expect(back.items[0]!.returnInfo).toBe(info)
    },
  )

  it('replaces characters XML cannot carry, so the receipt still parses', () => {
    const back = readReceipts(
      cebReceiptXml('CEB312', [{ ...orderReceipt, returnInfo: 'a\u0000b\u001bc\ud800' }]),
      'CEB312Message',
      'OrderReturn',
    )
    expect(back.items[0]!.returnInfo).toBe('a\ufffdb\ufffdc\ufffd')
  })

  it('refuses unknown or missing fields: receipts are built by our own code', () => {
    expect(() => cebReceiptXml('CEB312', [{ ...orderReceipt, status: '1' }])).toThrow(
      'CEB312 receipt 0: unknown field status',
    )
    const { returnInfo: _drop, ...partial } = orderReceipt
    expect(() => cebReceiptXml('CEB312', [partial])).toThrow('CEB312 receipt 0: returnInfo is required')
    expect(() => cebReceiptXml('CEB312', [])).toThrow(/at least one receipt/)
  })

  it('writes CEB900 format-error receipts from parse problems', () => {
    const r = problems(parseCebXml(edit(ORDER, '<ceb:orderNo>SO202508180001</ceb:orderNo>', '')))
    const xml = ceb900Xml({
      guid: 'B0000000-0000-0000-0000-000000000002',
      returnStatus: '-1',
      returnTime: '20250818103005123',
      returnInfo: r.map((p) => `${p.pointer}: ${p.message}`).join('; '),
      oriCopMsgId: '5F0C6A2E-9C1B-4B7E-8E8A-1D2C3B4A5F60',
      oriMessageType: 'CEB311',
    })
    const back = readReceipts(xml, 'CEB900Message', 'MessageReturn')
    expect(back.items).toEqual([
      {
        guid: 'B0000000-0000-0000-0000-000000000002',
        returnStatus: '-1',
        returnTime: '20250818103005123',
        returnInfo: '/CEB311Message/Order/0/OrderHead/orderNo: orderNo is required',
        oriCopMsgId: '5F0C6A2E-9C1B-4B7E-8E8A-1D2C3B4A5F60',
        oriMessageType: 'CEB311',
      },
    ])
    expect(
      Object.keys(
        readReceipts(ceb900Xml({ guid: 'G', returnStatus: '-1', returnInfo: 'x' }), 'CEB900Message', 'MessageReturn')
          .items[0]!,
      ),
    ).toEqual(['guid', 'returnStatus', 'returnInfo'])
  })
})
