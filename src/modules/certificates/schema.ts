import { Type, type Static } from 'typebox'
import { Uuid, UtcTime } from '../../shared/schema.js'

/** Limits shared by the API, the service and the console. */
export const TOKEN_MAX = 400
export const NOTE_MAX = 500
/** The QR payload (verify URL with the token) must stay below this many bytes (DOMAIN §6). */
export const QR_PAYLOAD_MAX = 300

/** Certificate numbers: 4-digit customs district, China year, `Q`, 9-digit sequence (`53012026Q000000042`). */
export const CERTIFICATE_NUMBER_PATTERN = '^[0-9]{8}Q[0-9]{9}$'
/** Archive printout serials: district, China year, `P`, 9-digit sequence. */
export const PRINT_SERIAL_PATTERN = '^[0-9]{8}P[0-9]{9}$'

/** What a verification concludes, by precedence MALFORMED > UNKNOWN_ISSUER > TAMPERED > REVOKED > EXPIRED. */
export const VERDICTS = ['AUTHENTIC', 'TAMPERED', 'REVOKED', 'UNKNOWN_ISSUER', 'EXPIRED', 'MALFORMED'] as const
export type Verdict = (typeof VERDICTS)[number]

/** Every check that can fail, each belonging to one verdict; `OK` only with AUTHENTIC. */
export const REASONS = [
  'OK',
  'MALFORMED',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_ALGORITHM',
  'KEY_UNKNOWN',
  'KEY_NOT_VALID_AT_SIGNING',
  'SIGNATURE_INVALID',
  'CONTENT_MISMATCH',
  'NOT_FOUND',
  'REVOKED',
  'EXPIRED',
  'NOT_YET_VALID',
  'RETENTION_ENDED',
] as const
export type Reason = (typeof REASONS)[number]

export const REVOCATION_REASONS = ['WITHDRAWN', 'SUPERSEDED', 'ISSUED_IN_ERROR', 'GOODS_NONCOMPLIANT'] as const
export type RevocationReason = (typeof REVOCATION_REASONS)[number]

const Party = Type.Object({
  name: Type.String(),
  nameEn: Type.Optional(Type.String()),
  customsCode: Type.String(),
  uscc: Type.String(),
})

/** The printed content of a certificate: what the digest covers and the verify page shows. */
export const CertificateContentSchema = Type.Object({
  type: Type.String({ description: 'certificate type, e.g. ENTRY_IQ (入境货物检验检疫证明)' }),
  number: Type.String({ pattern: CERTIFICATE_NUMBER_PATTERN }),
  entryId: Type.String({ description: '18-digit entry number of the declaration' }),
  issuedAt: UtcTime,
  validUntil: UtcTime,
  issuingOffice: Type.Object({ code: Type.String(), name: Type.String(), nameEn: Type.String() }),
  consignee: Party,
  tradeCountry: Type.String(),
  iePort: Type.String(),
  billNo: Type.Optional(Type.String()),
  goods: Type.Array(
    Type.Object({
      gNo: Type.Integer({ minimum: 1 }),
      hsCode: Type.String(),
      description: Type.String(),
      quantity: Type.String(),
      unit: Type.String(),
      originCountry: Type.String(),
      category: Type.String({
        description: 'quarantine category of the HS range that applies: ANIMAL, PLANT, FOOD, OTHER',
      }),
    }),
  ),
  inspection: Type.Object({
    result: Type.Enum(['COMPLIANT', 'OFFICER_DECISION']),
    finishedAt: Type.Union([UtcTime, Type.Null()]),
  }),
  replaces: Type.Optional(Type.String({ description: 'number of the certificate this one supersedes' })),
  remarks: Type.Optional(Type.String()),
})
export type CertificateContent = Static<typeof CertificateContentSchema>

export const CertificateSchema = Type.Object({
  id: Uuid,
  number: Type.String(),
  type: Type.String(),
  declarationId: Uuid,
  entryId: Type.String(),
  consigneeId: Uuid,
  content: CertificateContentSchema,
  digest: Type.String({ description: 'SHA-256 of the canonical JSON of content, base64url' }),
  kid: Type.String(),
  token: Type.String({ description: 'signed token carried by the QR code' }),
  verifyUrl: Type.String(),
  issuedAt: UtcTime,
  issuedBy: Type.String(),
  validFrom: UtcTime,
  validUntil: UtcTime,
  replaces: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([UtcTime, Type.Null()]),
  revocationReason: Type.Union([Type.Enum(REVOCATION_REASONS), Type.Null()]),
  revocationNote: Type.Union([Type.String(), Type.Null()]),
  revokedBy: Type.Union([Type.String(), Type.Null()]),
  replacedBy: Type.Union([Type.String(), Type.Null()]),
})
export type Certificate = Static<typeof CertificateSchema>

export const NumberParams = Type.Object(
  {
    number: Type.String({ pattern: CERTIFICATE_NUMBER_PATTERN, description: 'certificate number' }),
  },
  { additionalProperties: false },
)

export const ListCertificatesQuerySchema = Type.Object(
  {
    declarationId: Type.Optional(Uuid),
    revoked: Type.Optional(Type.Boolean()),
    from: Type.Optional(UtcTime),
    to: Type.Optional(UtcTime),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)

export const IssueCertificateSchema = Type.Object(
  {
    declarationId: Uuid,
    note: Type.Optional(Type.String({ minLength: 1, maxLength: NOTE_MAX })),
  },
  { additionalProperties: false },
)

export const RevokeCertificateSchema = Type.Object(
  {
    reason: Type.Enum(['WITHDRAWN', 'ISSUED_IN_ERROR', 'GOODS_NONCOMPLIANT'], {
      description: 'SUPERSEDED is set by re-issue',
    }),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: NOTE_MAX })),
  },
  { additionalProperties: false },
)

export const ReissueCertificateSchema = Type.Object(
  {
    note: Type.Optional(
      Type.String({ minLength: 1, maxLength: NOTE_MAX, description: 'printed as remarks on the new certificate' }),
    ),
  },
  { additionalProperties: false },
)

export const VerifyRequestSchema = Type.Object(
  {
    token: Type.String({
      minLength: 1,
      maxLength: TOKEN_MAX,
      description: 'the token, or the whole verify URL scanned from the QR code',
    }),
  },
  { additionalProperties: false },
)

/** Printed fields shown to a verifier: those of the certificate, or of the archived declaration printout. */
export const PrintedFieldsSchema = Type.Array(
  Type.Object({ labelZh: Type.String(), labelEn: Type.String(), value: Type.String() }),
)

export const VerificationSchema = Type.Object({
  verdict: Type.Enum(VERDICTS),
  reasons: Type.Array(Type.Enum(REASONS), { description: 'every failed check; ["OK"] when authentic' }),
  kind: Type.Union([Type.Enum(['CERTIFICATE', 'ARCHIVE_PRINT']), Type.Null()]),
  number: Type.Union([Type.String(), Type.Null()]),
  keyId: Type.Union([Type.String(), Type.Null()]),
  statusChecked: Type.Boolean({
    description: 'whether the registry was consulted (false when the token failed before that)',
  }),
  checkedAt: UtcTime,
  issuedAt: Type.Union([UtcTime, Type.Null()]),
  validUntil: Type.Union([UtcTime, Type.Null()]),
  revokedAt: Type.Union([UtcTime, Type.Null()]),
  revocationReason: Type.Union([Type.Enum(REVOCATION_REASONS), Type.Null()]),
  replacedBy: Type.Union([Type.String(), Type.Null()]),
  fields: PrintedFieldsSchema,
})
export type Verification = Static<typeof VerificationSchema>

const jwkWindow = {
  use: Type.Literal('sig'),
  kid: Type.String(),
  status: Type.Enum(['ACTIVE', 'RETIRED']),
  activatedAt: UtcTime,
  retiredAt: Type.Union([UtcTime, Type.Null()]),
}
export const JwkSchema = Type.Union([
  Type.Object({
    kty: Type.Literal('OKP'),
    crv: Type.Literal('Ed25519'),
    alg: Type.Literal('EdDSA'),
    x: Type.String(),
    ...jwkWindow,
  }),
  Type.Object({
    kty: Type.Literal('EC'),
    crv: Type.Literal('SM2', {
      description: 'not an IANA-registered curve name: the SM2 recommended curve (GB/T 32918.5)',
    }),
    alg: Type.Literal('SM2', { description: 'SM2 with SM3, signer ID 1234567812345678, signature r‖s (64 bytes)' }),
    x: Type.String({ description: '32 bytes, base64url' }),
    y: Type.String({ description: '32 bytes, base64url' }),
    ...jwkWindow,
  }),
])
export const JwksSchema = Type.Object({ keys: Type.Array(JwkSchema) })
export type Jwks = Static<typeof JwksSchema>

export const QuarantineRangeSchema = Type.Object(
  {
    hsFrom: Type.String({ pattern: '^[0-9]{2,10}$' }),
    hsTo: Type.String({ pattern: '^[0-9]{2,10}$' }),
    ciqCode: Type.Optional(Type.Union([Type.String({ pattern: '^[0-9]{3}$' }), Type.Null()])),
    category: Type.Enum(['ANIMAL', 'PLANT', 'FOOD', 'OTHER']),
    description: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
)
export type QuarantineRange = Static<typeof QuarantineRangeSchema>
export const QuarantineRangesSchema = Type.Object(
  { items: Type.Array(QuarantineRangeSchema, { maxItems: 2000 }) },
  { additionalProperties: false },
)
