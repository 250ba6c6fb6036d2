import { Type, type Static } from 'typebox'

/** Default and maximum number of `GET /hs` results. */
export const HS_SEARCH_LIMIT_DEFAULT = 20
export const HS_SEARCH_LIMIT_MAX = 100
/** Maximum length of the `GET /hs` query. */
export const HS_QUERY_MAX_LENGTH = 100

/** Query of `GET /hs`: a code prefix (`0101`, `8471.30`) or words (`live horses`, `种用马`). */
export const HsSearchQuerySchema = Type.Object(
  {
    q: Type.String({
      minLength: 1,
      maxLength: HS_QUERY_MAX_LENGTH,
      description: 'code prefix (dots and spaces ignored) or words, all of which must match',
    }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: HS_SEARCH_LIMIT_MAX, default: HS_SEARCH_LIMIT_DEFAULT })),
  },
  { additionalProperties: false },
)
export type HsSearchQuery = Static<typeof HsSearchQuerySchema>

/** Params of `GET /hs/:code`: an HS chapter, heading or subheading, or a China 8-digit tariff line. */
export const HsCodeParamsSchema = Type.Object(
  { code: Type.String({ pattern: '^(\\d{2}|\\d{4}|\\d{6}|\\d{8})$', description: '2, 4, 6 or 8 digits' }) },
  { additionalProperties: false },
)
export type HsCodeParams = Static<typeof HsCodeParamsSchema>

/** The list routes take no query parameters. */
export const NoQuerySchema = Type.Object({}, { additionalProperties: false })

const HsLevelSchema = Type.Union([Type.Literal(2), Type.Literal(4), Type.Literal(6), Type.Literal(8)])

export const HsSearchHitSchema = Type.Object({
  code: Type.String(),
  level: HsLevelSchema,
  description: Type.String(),
  descriptionZh: Type.Optional(Type.String({ description: 'only on 8-digit tariff lines' })),
})
export type HsSearchHit = Static<typeof HsSearchHitSchema>

export const HsSearchResponseSchema = Type.Object({ items: Type.Array(HsSearchHitSchema) })

/** One HS heading (levels 2–6, HS2022) or China tariff line (level 8, 2023, with JGS-20 legal units). */
export const HsCodeDetailSchema = Type.Object({
  code: Type.String(),
  level: HsLevelSchema,
  description: Type.String(),
  descriptionZh: Type.Optional(Type.String()),
  parent: Type.Union([Type.String(), Type.Null()], {
    description: 'code one level up; null for chapters and for tariff lines outside HS2022 (chapters 98, 99)',
  }),
  section: Type.Union([Type.String(), Type.Null()], { description: 'HS section (Roman numeral); null outside HS2022' }),
  unit1: Type.Optional(Type.String({ description: 'first legal unit, JGS-20 code' })),
  unit2: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'second legal unit, JGS-20 code' })),
})
export type HsCodeDetail = Static<typeof HsCodeDetailSchema>

export const CountrySchema = Type.Object({
  iso2: Type.String({ description: 'ISO 3166-1 alpha-2; empty when the China code has no ISO country' }),
  iso3: Type.String({ description: 'ISO 3166-1 alpha-3; empty when the China code has no ISO country' }),
  chinaCode: Type.Union([Type.String(), Type.Null()], {
    description: "China's old 3-digit customs code (CEB); not ISO numeric",
  }),
  nameEn: Type.String(),
  nameZh: Type.Union([Type.String(), Type.Null()]),
})

export const CurrencySchema = Type.Object({
  code: Type.String({ description: 'ISO 4217' }),
  name: Type.String(),
  digits: Type.Integer({ description: 'minor-unit decimals' }),
})

export const CodeEntrySchema = Type.Object({
  code: Type.String(),
  name: Type.String({ description: 'Chinese name where known, otherwise English' }),
  nameEn: Type.Optional(Type.String()),
})

export const CountryListSchema = Type.Object({ items: Type.Array(CountrySchema) })
export const CurrencyListSchema = Type.Object({ items: Type.Array(CurrencySchema) })
export const CodeEntryListSchema = Type.Object({ items: Type.Array(CodeEntrySchema) })
