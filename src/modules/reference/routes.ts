import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { TSchema } from 'typebox'
import { KouanError } from '../../errors.js'
import { errors } from '../../shared/schema.js'
import type { Reference } from './data.js'
import {
  CodeEntryListSchema,
  CountryListSchema,
  CurrencyListSchema,
  HS_SEARCH_LIMIT_DEFAULT,
  HsCodeDetailSchema,
  HsCodeParamsSchema,
  HsSearchQuerySchema,
  HsSearchResponseSchema,
  NoQuerySchema,
  type HsCodeDetail,
} from './schema.js'

const tags = ['reference']

const listSchema = <T extends TSchema>(summary: string, items: T) => ({
  tags,
  summary,
  querystring: NoQuerySchema,
  response: { 200: items, ...errors(400) },
})

/** An HS heading, or a tariff line with the section and HS6 parent it sits under (none for China's chapters 98–99). */
function hsDetail(reference: Reference, code: string): HsCodeDetail | undefined {
  const heading = reference.hs(code)
  if (heading) return { ...heading }
  const line = reference.tariffLine(code)
  if (!line) return undefined
  return {
    code: line.code,
    level: 8,
    description: line.nameEn,
    descriptionZh: line.nameZh,
    parent: reference.hs(code.slice(0, 6)) ? code.slice(0, 6) : null,
    section: reference.hs(code.slice(0, 2))?.section ?? null,
    unit1: line.unit1,
    unit2: line.unit2,
  }
}

/** Public, read-only reference data: HS codes and tariff lines, countries, currencies and customs code tables. */
export default async function referenceRoutes(app: FastifyInstance, opts: { reference: Reference }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>()
  const { reference } = opts

  r.get(
    '/hs',
    {
      schema: {
        tags,
        summary: 'Search HS headings and China tariff lines by code prefix or words (English or Chinese)',
        querystring: HsSearchQuerySchema,
        response: { 200: HsSearchResponseSchema, ...errors(400) },
      },
    },
    async (req) => ({ items: reference.searchHs(req.query.q, req.query.limit ?? HS_SEARCH_LIMIT_DEFAULT) }),
  )

  r.get(
    '/hs/:code',
    {
      schema: {
        tags,
        summary: 'One HS2022 chapter, heading or subheading (2/4/6 digits) or China 2023 tariff line (8 digits)',
        params: HsCodeParamsSchema,
        response: { 200: HsCodeDetailSchema, ...errors(400, 404) },
      },
    },
    async (req) => {
      const detail = hsDetail(reference, req.params.code)
      if (!detail)
        throw new KouanError('REFERENCE_NOT_FOUND', 404, `no HS code ${req.params.code}`, { pointer: '/params/code' })
      return detail
    },
  )

  r.get(
    '/countries',
    { schema: listSchema('Countries: ISO 3166-1 codes and China customs 3-digit codes', CountryListSchema) },
    async () => ({ items: reference.list('countries') }),
  )
  r.get('/currencies', { schema: listSchema('ISO 4217 currencies', CurrencyListSchema) }, async () => ({
    items: reference.list('currencies'),
  }))
  r.get('/trade-modes', { schema: listSchema('Trade modes (监管方式, 4 digits)', CodeEntryListSchema) }, async () => ({
    items: reference.list('tradeModes'),
  }))
  r.get('/transport-modes', { schema: listSchema('Transport modes (运输方式)', CodeEntryListSchema) }, async () => ({
    items: reference.list('transportModes'),
  }))
  r.get(
    '/transaction-terms',
    { schema: listSchema('Transaction terms (成交方式)', CodeEntryListSchema) },
    async () => ({ items: reference.list('transactionTerms') }),
  )
  r.get('/units', { schema: listSchema('Units of measure (JGS-20, 3 digits)', CodeEntryListSchema) }, async () => ({
    items: reference.list('units'),
  }))
  r.get(
    '/customs-offices',
    { schema: listSchema('Customs districts and offices (关区, 4 digits): the shipped subset', CodeEntryListSchema) },
    async () => ({ items: reference.list('customsOffices') }),
  )
}
