/**
 * What a targeting rule can test, shared by the schema, the engine and the console's rule editor. Kept free
 * of imports so the web console can use the lists without bundling the server's schema library.
 */

/** Declaration-level fields a rule condition can test. */
export const HEADER_FIELDS = [
  'ieFlag',
  'tradeMode',
  'transportMode',
  'tradeCountry',
  'departureCountry',
  'customsDistrict',
  'iePort',
  'currency',
  'traderCode',
  'declarantCode',
  'traderCredit',
  'totalValueCny',
  'grossMassKg',
  'packages',
  'itemCount',
] as const
/** Item-level fields; all item conditions of a rule must hold for the same item. */
export const ITEM_FIELDS = [
  'hsCode',
  'originCountry',
  'unit',
  'quantity',
  'unitValueCny',
  'itemValueCny',
  'description',
] as const
export const FIELDS = [...HEADER_FIELDS, ...ITEM_FIELDS] as const
export type Field = (typeof FIELDS)[number]
export const OPS = [
  'eq',
  'ne',
  'in',
  'notIn',
  'prefix',
  'notPrefix',
  'contains',
  'lt',
  'lte',
  'gt',
  'gte',
  'between',
] as const
export type Op = (typeof OPS)[number]
