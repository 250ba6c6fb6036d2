import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { packageRoot } from '../../shared/paths.js'
import {
  CEB_FIELDS_FILE,
  MESSAGE_ATTRIBUTE_FIELDS,
  cebFieldTable,
  fieldsFor,
  pointerSegment,
  validateBaseTransfer,
  validateDocument,
  validateFields,
  type FieldSpec,
} from './fields.js'

const field = (message: string, node: string, element: string): FieldSpec => {
  const f = fieldsFor(message, node).find((x) => x.element === element)
  if (!f) throw new Error(`no ${element} in ${message} ${node}`)
  return f
}
const orderHead = (element: string) => field('CEB311Message', 'Order/OrderHead', element)
const invHead = (element: string) => field('CEB621Message', 'Inventory/InventoryHead', element)
const invLine = (element: string) => field('CEB621Message', 'Inventory/InventoryList', element)

/** A well-formed order as the JSON form carries it (values from the CEB311 example). */
function order() {
  return {
    head: {
      guid: '5F0C6A2E-9C1B-4B7E-8E8A-1D2C3B4A5F60',
      appType: '1',
      appTime: '20250818103000',
      appStatus: '2',
      orderType: 'I',
      orderNo: 'SO202508180001',
      ebpCode: '4601000EBP',
      ebpName: '示例跨境电商平台有限公司',
      ebcCode: '4601000EBC',
      ebcName: '示例电商企业有限公司',
      goodsValue: '398.00',
      freight: '10.00',
      discount: '0',
      taxTotal: '37.13',
      acturalPaid: '445.13',
      currency: '142',
      buyerRegNo: 'user_10086',
      buyerName: '张三',
      buyerTelephone: '13800000000',
      buyerIdType: '1',
      buyerIdNumber: '110105199003071239',
      consignee: '张三',
      consigneeTelephone: '13800000000',
      consigneeAddress: '北京市朝阳区示例路1号',
    } as Record<string, unknown>,
    lines: [
      {
        gnum: '1',
        itemName: '婴幼儿配方奶粉800克',
        gmodel: '800g/罐',
        unit: '122',
        qty: '2',
        price: '199.00',
        totalPrice: '398.00',
        currency: '142',
        country: '609',
      } as Record<string, unknown>,
    ],
  }
}
const HEAD = '/CEB311Message/Order/0/OrderHead'
const withHead = (patch: Record<string, unknown>) => {
  const o = order()
  Object.assign(o.head, patch)
  return validateDocument('CEB311', o, '/CEB311Message/Order/0')
}

describe('field list', () => {
  it('loads every row of the CSV, keyed by message and node, in file order', () => {
    const csv = readFileSync(join(packageRoot(), CEB_FIELDS_FILE), 'utf8')
      .split(/\r?\n/)
      .filter((l) => l !== '')
    const total = [...cebFieldTable().values()].reduce((n, list) => n + list.length, 0)
    expect(total).toBe(csv.length - 1)
    expect(
      fieldsFor('CEB311Message', 'Order/OrderHead')
        .map((f) => f.element)
        .slice(0, 6),
    ).toEqual(['guid', 'appType', 'appTime', 'appStatus', 'orderType', 'orderNo'])
    expect(fieldsFor('CEB311Message', 'Order/OrderHead')).toHaveLength(30)
    expect(fieldsFor('(all CEB)', 'BaseTransfer').map((f) => f.element)).toEqual([
      'copCode',
      'copName',
      'dxpMode',
      'dxpId',
      'note',
    ])
    expect(cebFieldTable()).toBe(cebFieldTable())
    expect(() => fieldsFor('CEB999Message', 'X')).toThrow(/no fields/)
  })

  it('reads fixed (Cn) and variable (C..n) lengths, and widens unconfirmed ones to max(2n, 64)', () => {
    expect(orderHead('guid')).toMatchObject({ kind: 'C', exactChars: 36, confirmed: true })
    expect(orderHead('orderNo')).toMatchObject({ kind: 'C', maxChars: 60, confirmed: true })
    expect(orderHead('orderNo').exactChars).toBeUndefined()
    expect(invHead('orderNo')).toMatchObject({ maxChars: 120, confirmed: false, declared: 'C..60?' })
    expect(invHead('preNo')).toMatchObject({ maxChars: 64, confirmed: false })
    expect(invHead('preNo').exactChars).toBeUndefined()
    expect(invHead('note')).toMatchObject({ maxChars: 2000 })
  })

  it('reads Np,s as digits and decimals, ignoring annotations, and widens unconfirmed ones', () => {
    expect(orderHead('goodsValue')).toMatchObject({
      kind: 'N',
      maxDigits: 19,
      maxScale: 2,
      confirmed: true,
      declared: 'N19,2',
    })
    expect(invLine('gnum')).toMatchObject({ maxDigits: 4, maxScale: 0 })
    expect(field('CEB511Message', 'Logistics/LogisticsHead', 'packNo')).toMatchObject({ maxDigits: 9, maxScale: 0 })
    // N19,4 (per one impl.)? : the scale is in doubt too, so the widest CEB scale (5) is allowed.
    expect(invLine('qty')).toMatchObject({ maxDigits: 38, maxScale: 5, confirmed: false, declared: 'N19,4?' })
    expect(invLine('price')).toMatchObject({ maxScale: 5, confirmed: false })
    // An unconfirmed integer stays an integer.
    expect(field('CEB311Message', 'Order/OrderList', 'gnum')).toMatchObject({ maxDigits: 8, maxScale: 0 })
  })

  it('takes only an unqualified Y as required', () => {
    expect(orderHead('orderNo').required).toBe(true)
    expect(orderHead('payTransactionId').required).toBe(false) // "N (Y in some versions)"
    expect(field('CEB511Message', 'Logistics/LogisticsHead', 'packNo').required).toBe(false) // "Y (some N)"
    expect(field('(all CEB)', 'BaseTransfer', 'copName').required).toBe(true)
    expect(MESSAGE_ATTRIBUTE_FIELDS.map((f) => [f.element, f.required])).toEqual([
      ['guid', true],
      ['version', false],
    ])
  })

  it('derives the fixed formats the rule column states', () => {
    expect(orderHead('appType').format).toEqual({ kind: 'enum', values: ['1', '2', '3'] })
    expect(orderHead('appStatus').format).toEqual({ kind: 'enum', values: ['1', '2'] })
    expect(orderHead('orderType').format).toEqual({ kind: 'enum', values: ['I'] })
    expect(invHead('ieFlag').format).toEqual({ kind: 'enum', values: ['I'] })
    // "1-身份证 2-其它；限定填1": the code list is the format, "限定填1" a content rule.
    expect(orderHead('buyerIdType').format).toEqual({ kind: 'enum', values: ['1', '2'] })
    expect(orderHead('appTime').format).toEqual({ kind: 'datetime' })
    expect(field('CEB411Message', 'Payment/PaymentHead', 'payTime').format).toEqual({ kind: 'datetime' })
    expect(invHead('declTime').format).toEqual({ kind: 'date' })
    expect(invHead('ieDate').format).toEqual({ kind: 'date' })
    expect(field('CEB312Message', 'OrderReturn', 'returnTime').format).toEqual({ kind: 'datetimeMs' })
    expect(orderHead('guid').format).toEqual({ kind: 'uppercase' })
    expect(invLine('gcode').format).toEqual({ kind: 'digits' })
    expect(orderHead('currency').format).toBeUndefined() // "限定142" is a content rule (rules.ts)
    expect(orderHead('acturalPaid').format).toBeUndefined()
  })
})

describe('validateDocument', () => {
  it('passes a well-formed order', () => {
    expect(validateDocument('CEB311', order(), '/CEB311Message/Order/0')).toEqual([])
  })

  it('reports a missing or empty required element with its pointer', () => {
    const o = order()
    delete o.head.orderNo
    expect(validateDocument('CEB311', o, '/CEB311Message/Order/0')).toEqual([
      { code: 'FORMAT', message: 'orderNo is required', pointer: `${HEAD}/orderNo` },
    ])
    expect(withHead({ orderNo: '' })).toEqual([
      { code: 'FORMAT', message: 'orderNo is required', pointer: `${HEAD}/orderNo` },
    ])
  })

  it('lets optional elements be absent or empty', () => {
    expect(withHead({ note: '', payCode: '', consigneeDistrict: '' })).toEqual([])
  })

  it('uses JSON names with json: true', () => {
    const o = order()
    o.lines.push({ ...o.lines[0], gnum: '2', qty: '-2' })
    expect(validateDocument('CEB311', o, '/documents/3', { json: true })).toEqual([
      {
        code: 'FORMAT',
        message: 'qty must be a non-negative decimal such as 12.50 (N19,5?: length unconfirmed, limit widened)',
        pointer: '/documents/3/lines/1/qty',
      },
    ])
  })

  it('requires at least one line for Order and Inventory, and no lines on Payment', () => {
    const o = order()
    o.lines = []
    expect(validateDocument('CEB311', o, '/d')).toEqual([
      { code: 'FORMAT', message: 'at least one OrderList is required', pointer: '/d/OrderList' },
    ])
    expect(validateDocument('CEB411', { head: {}, lines: [] }, '/d', { json: true })).toContainEqual({
      code: 'FORMAT',
      message: 'lines is not part of Payment',
      pointer: '/d/lines',
    })
    expect(validateDocument('CEB621', {}, '/d')).toEqual([
      { code: 'FORMAT', message: 'InventoryHead is required', pointer: '/d/InventoryHead' },
      { code: 'FORMAT', message: 'at least one InventoryList is required', pointer: '/d/InventoryList' },
    ])
  })

  it('rejects unknown elements and non-string values instead of dropping them', () => {
    expect(withHead({ orderno: 'x' })).toEqual([
      { code: 'FORMAT', message: 'orderno is not an element of OrderHead', pointer: `${HEAD}/orderno` },
    ])
    expect(withHead({ 'a/b~c': 'x' })[0]?.pointer).toBe(`${HEAD}/a~1b~0c`)
    expect(withHead({ goodsValue: 398 })).toEqual([
      { code: 'FORMAT', message: 'goodsValue must be a string', pointer: `${HEAD}/goodsValue` },
    ])
    expect(withHead({ note: null })).toEqual([
      { code: 'FORMAT', message: 'note must be a string', pointer: `${HEAD}/note` },
    ])
  })

  it.each([['0'], ['398.00'], ['445.13'], ['1'], ['0.5'], ['12345678901234567.12'], ['1234567890123456789']])(
    'accepts %s as N19,2',
    (v) => {
      expect(withHead({ goodsValue: v })).toEqual([])
    },
  )

  it.each([
    ['1.234', 'goodsValue must be a decimal with at most 2 places (N19,2)'],
    ['-1', 'goodsValue must be a non-negative decimal such as 12.50 (N19,2)'],
    ['1e3', 'goodsValue must be a non-negative decimal such as 12.50 (N19,2)'],
    ['+1', 'goodsValue must be a non-negative decimal such as 12.50 (N19,2)'],
    ['1.', 'goodsValue must be a non-negative decimal such as 12.50 (N19,2)'],
    ['.5', 'goodsValue must be a non-negative decimal such as 12.50 (N19,2)'],
    ['1,000.00', 'goodsValue must be a non-negative decimal such as 12.50 (N19,2)'],
    ['Infinity', 'goodsValue must be a non-negative decimal such as 12.50 (N19,2)'],
    ['０.５', 'goodsValue must be a non-negative decimal such as 12.50 (N19,2)'],
    ['123456789012345678.12', 'goodsValue must have at most 19 digits (N19,2)'],
  ])('rejects %s as N19,2', (v, message) => {
    expect(withHead({ goodsValue: v })).toEqual([{ code: 'FORMAT', message, pointer: `${HEAD}/goodsValue` }])
  })

  it('takes integers for N9 and N4', () => {
    expect(validateDocument('CEB511', { head: { packNo: '1.5' } }, '/w')).toContainEqual({
      code: 'FORMAT',
      message: 'packNo must be an integer without decimals (N9)',
      pointer: '/w/LogisticsHead/packNo',
    })
  })

  it('counts characters, not bytes or UTF-16 units', () => {
    expect(withHead({ buyerName: '张'.repeat(60) })).toEqual([])
    expect(withHead({ buyerName: '张'.repeat(61) })).toEqual([
      { code: 'FORMAT', message: 'buyerName must be at most 60 characters (C..60)', pointer: `${HEAD}/buyerName` },
    ])
    expect(withHead({ buyerName: '😀'.repeat(60) })).toEqual([])
    expect(withHead({ consigneeDistrict: '11010' })).toEqual([
      {
        code: 'FORMAT',
        message: 'consigneeDistrict must be exactly 6 characters (C6)',
        pointer: `${HEAD}/consigneeDistrict`,
      },
    ])
  })

  it('checks the stated fixed formats', () => {
    const at = (e: string) => `${HEAD}/${e}`
    expect(withHead({ appType: '4', appStatus: '3', orderType: 'E' })).toEqual([
      { code: 'FORMAT', message: 'appType must be one of 1, 2, 3', pointer: at('appType') },
      { code: 'FORMAT', message: 'appStatus must be one of 1, 2', pointer: at('appStatus') },
      { code: 'FORMAT', message: 'orderType must be I', pointer: at('orderType') },
    ])
    expect(withHead({ appTime: '2025-08-18 10:30' })).toEqual([
      { code: 'FORMAT', message: 'appTime must be a date and time YYYYMMDDhhmmss', pointer: at('appTime') },
    ])
    expect(withHead({ guid: '5f0c6a2e-9c1b-4b7e-8e8a-1d2c3b4a5f60' })).toEqual([
      { code: 'FORMAT', message: 'guid must not contain lowercase letters', pointer: at('guid') },
    ])
  })

  it.each([
    ['20240229120000', true],
    ['20250229120000', false],
    ['20251231235959', true],
    ['20251231240000', false],
    ['20250100000000', false],
    ['20251301000000', false],
    ['20250431000000', false],
    ['21000229000000', false],
    ['20000229000000', true],
    ['2025081810300', false],
  ])('appTime %s valid: %s', (v, ok) => {
    expect(withHead({ appTime: v })).toHaveLength(ok ? 0 : 1)
  })

  it('checks dates YYYYMMDD and digits-only gcode on inventory', () => {
    const inv = {
      head: { declTime: '2025-08-18', ieDate: '20250832' },
      lines: [{ gcode: '190110100A' }, { gcode: '1901101000' }],
    }
    const problems = validateDocument('CEB621', inv, '/CEB621Message/Inventory/1')
    expect(problems).toContainEqual({
      code: 'FORMAT',
      message: 'declTime must be a date YYYYMMDD',
      pointer: '/CEB621Message/Inventory/1/InventoryHead/declTime',
    })
    expect(problems).toContainEqual({
      code: 'FORMAT',
      message: 'ieDate must be a date YYYYMMDD',
      pointer: '/CEB621Message/Inventory/1/InventoryHead/ieDate',
    })
    expect(problems).toContainEqual({
      code: 'FORMAT',
      message: 'gcode must be digits only',
      pointer: '/CEB621Message/Inventory/1/InventoryList/0/gcode',
    })
    expect(problems.filter((p) => p.pointer === '/CEB621Message/Inventory/1/InventoryList/1/gcode')).toEqual([])
  })

  test.prop([
    fc.stringMatching(/^[1-9][0-9]{0,16}$/),
    fc.option(fc.stringMatching(/^[0-9]{1,2}$/), { nil: undefined }),
  ])('accepts every N19,2 decimal string', (int, frac) => {
    expect(withHead({ acturalPaid: frac === undefined ? int : `${int}.${frac}` })).toEqual([])
  })

  test.prop([fc.stringMatching(/^[0-9]{1,10}\.[0-9]{3,6}$/)])('rejects more than 2 places for N19,2', (v) => {
    expect(withHead({ taxTotal: v })).toEqual([
      {
        code: 'FORMAT',
        message: 'taxTotal must be a decimal with at most 2 places (N19,2)',
        pointer: `${HEAD}/taxTotal`,
      },
    ])
  })

  test.prop([fc.constantFrom('CEB311', 'CEB411', 'CEB511', 'CEB621' as const), fc.anything()])(
    'never throws on arbitrary values and points below the base pointer',
    (type, doc) => {
      for (const opts of [{}, { json: true }]) {
        const problems = validateDocument(type, doc, '/base', opts)
        for (const p of problems) {
          expect(p.code).toBe('FORMAT')
          expect(p.pointer.startsWith('/base')).toBe(true)
        }
      }
    },
  )
})

describe('validateBaseTransfer and validateFields', () => {
  it('checks BaseTransfer against the (all CEB) rows', () => {
    expect(validateBaseTransfer({ copCode: 'X', copName: 'Y', dxpMode: 'DXP', dxpId: 'D' }, '/bt')).toEqual([])
    expect(validateBaseTransfer({ copCode: 'X', dxpMode: 'DXP', dxpId: 'D', extra: '1' }, '/bt')).toEqual([
      { code: 'FORMAT', message: 'extra is not an element of BaseTransfer', pointer: '/bt/extra' },
      { code: 'FORMAT', message: 'copName is required', pointer: '/bt/copName' },
    ])
    expect(validateBaseTransfer('DXP', '/bt')).toEqual([
      { code: 'FORMAT', message: 'BaseTransfer must be an object of element texts', pointer: '/bt' },
    ])
  })

  it('prefixes attribute segments', () => {
    expect(validateFields(MESSAGE_ATTRIBUTE_FIELDS, {}, '/CEB311Message', 'CEB311Message', '@')).toEqual([
      { code: 'FORMAT', message: 'guid is required', pointer: '/CEB311Message/@guid' },
    ])
  })

  it('escapes JSON Pointer segments', () => {
    expect(pointerSegment('a/b~c')).toBe('a~1b~0c')
  })
})
