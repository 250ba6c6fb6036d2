import { Type, type TSchema } from 'typebox'

/** Shared schema primitives; module schemas build on these so limits live once. */
export const Uuid = Type.String({ format: 'uuid' })
export const UtcTime = Type.String({ format: 'date-time', description: 'UTC, ISO 8601' })
export const Iso3 = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 3166-1 alpha-3 country code' })
export const CustomsCode = Type.String({
  pattern: '^[0-9A-Z]{10}$',
  description: '10-character customs registration code',
})
export const Uscc = Type.String({
  minLength: 18,
  maxLength: 18,
  description: 'Unified social credit code (GB 32100-2015)',
})
export const District = Type.String({ pattern: '^[0-9]{4}$', description: '4-digit customs district (关区) code' })
/** Decimal string with up to `dp` decimals; money and quantities never travel as floats. */
export const Decimal = (dp: number, description?: string) =>
  Type.String({ pattern: `^(0|[1-9][0-9]{0,14})(\\.[0-9]{1,${dp}})?$`, ...(description ? { description } : {}) })

/** An electronic port card's signature over a body (declarations, entrustments). */
export const SignatureSchema = Type.Object(
  {
    cardNo: Type.String({ minLength: 1, maxLength: 32 }),
    alg: Type.Enum(['Ed25519', 'SM2'], { description: "the signing card's alg" }),
    value: Type.String({
      minLength: 1,
      maxLength: 200,
      description:
        'base64url signature over the RFC 8785 canonical JSON of the body without "signature" (Ed25519: 64 bytes; SM2: r‖s, 64 bytes)',
    }),
  },
  { additionalProperties: false },
)

export const ErrorItemSchema = Type.Object({ code: Type.String(), message: Type.String(), pointer: Type.String() })
export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String(),
    message: Type.String(),
    pointer: Type.String(),
    errors: Type.Array(ErrorItemSchema),
    requestId: Type.String(),
  },
  { $id: 'Error' },
)

/** Standard error responses for a route, to spread into its `response` schema. */
export function errors(...codes: number[]): Record<number, TSchema> {
  return Object.fromEntries(codes.map((c) => [c, ErrorSchema]))
}

export const Page = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)

/** `:id` path parameter of a UUID resource. */
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false })
/** OpenAPI security requirement of routes that need a bearer token. */
export const security = [{ bearer: [] as string[] }]

/** A PDF response body (OpenAPI: binary string). */
export const PdfBody = Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'application/pdf' })
