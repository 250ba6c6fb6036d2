import type { Queryable, Tx } from '../../db/index.js'
import type { Certificate, CertificateContent, QuarantineRange, RevocationReason } from './schema.js'

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null)

/**
 * The UTC range of issue times a number or serial can have: it embeds its China year (digits 5–8), and a China
 * year runs from 16:00 UTC on 31 December of the year before. Lets lookups prune to one partition.
 */
export function yearRange(number: string): [string, string] {
  const y = Number(number.slice(4, 8))
  return [`${y - 1}-12-31T16:00:00.000Z`, `${y}-12-31T16:00:00.000Z`]
}

// ---- quarantine ranges -------------------------------------------------------------------------------------

export async function loadQuarantineRanges(db: Queryable): Promise<QuarantineRange[]> {
  const rows = await db.query<{
    hs_from: string
    hs_to: string
    ciq_code: string | null
    category: QuarantineRange['category']
    description: string
  }>('select hs_from, hs_to, ciq_code, category, description from quarantine_hs_ranges order by hs_from, hs_to, id')
  return rows.map((r) => ({
    hsFrom: r.hs_from,
    hsTo: r.hs_to,
    ciqCode: r.ciq_code,
    category: r.category,
    description: r.description,
  }))
}

export async function replaceQuarantineRanges(tx: Tx, items: QuarantineRange[]): Promise<void> {
  await tx.query('delete from quarantine_hs_ranges')
  await tx.query(
    `insert into quarantine_hs_ranges (hs_from, hs_to, ciq_code, category, description)
     select hs_from, hs_to, ciq_code, category, description
     from jsonb_to_recordset($1::jsonb) as x(hs_from text, hs_to text, ciq_code text, category text, description text)`,
    [
      JSON.stringify(
        items.map((i) => ({
          hs_from: i.hsFrom,
          hs_to: i.hsTo,
          ciq_code: i.ciqCode ?? null,
          category: i.category,
          description: i.description,
        })),
      ),
    ],
  )
}

// ---- keys --------------------------------------------------------------------------------------------------

export interface KeyRow {
  kid: string
  alg: string
  publicKey: string
  status: 'ACTIVE' | 'RETIRED'
  activatedAt: string
  retiredAt: string | null
}
interface KeyDbRow {
  kid: string
  alg: string
  public_key: string
  status: 'ACTIVE' | 'RETIRED'
  activated_at: Date
  retired_at: Date | null
}
const toKey = (r: KeyDbRow): KeyRow => ({
  kid: r.kid,
  alg: r.alg,
  publicKey: r.public_key,
  status: r.status,
  activatedAt: iso(r.activated_at)!,
  retiredAt: iso(r.retired_at),
})

/** Public halves of every issuing key, oldest first. */
export async function listKeys(db: Queryable): Promise<KeyRow[]> {
  const rows = await db.query<KeyDbRow>(
    'select kid, alg, public_key, status, activated_at, retired_at from certificate_keys order by activated_at, kid',
  )
  return rows.map(toKey)
}

/** Inserts a key as ACTIVE unless another is active (returns false then). */
export async function insertActiveKey(
  db: Queryable,
  k: { kid: string; alg: string; publicKey: string; privateKey: string; createdBy: string; at: string },
): Promise<boolean> {
  const rows = await db.query<{ kid: string }>(
    `insert into certificate_keys (kid, alg, public_key, private_key, status, created_by, activated_at)
     values ($1, $2, $3, $4, 'ACTIVE', $5, $6) on conflict do nothing returning kid`,
    [k.kid, k.alg, k.publicKey, k.privateKey, k.createdBy, k.at],
  )
  return rows.length === 1
}

/** Retires the active key (it keeps verifying what it signed); returns its kid. Locks it first. */
export async function retireActiveKey(tx: Tx, at: string): Promise<string | undefined> {
  const [r] = await tx.query<{ kid: string }>(
    `update certificate_keys set status = 'RETIRED', retired_at = $1 where status = 'ACTIVE' returning kid`,
    [at],
  )
  return r?.kid
}

/** The active signing key, locked FOR SHARE (see {@link issuingContext}). */
export async function activeSigningKey(tx: Tx): Promise<{ kid: string; alg: string; privateKey: string } | undefined> {
  const [r] = await tx.query<{ kid: string; alg: string; private_key: string }>(
    `select kid, alg, private_key from certificate_keys where status = 'ACTIVE' for share`,
  )
  return r && { kid: r.kid, alg: r.alg, privateKey: r.private_key }
}

/**
 * Everything issuance needs in one statement: the active key (locked FOR SHARE, so a rotation waits for this
 * transaction and no certificate is signed by a key retired before it commits), the type's validity, the
 * consignee, and the next number.
 */
export async function issuingContext(tx: Tx, type: string, consigneeId: string) {
  const [r] = await tx.query<{
    kid: string
    alg: string
    private_key: string
    validity_days: number
    name_zh: string
    name_en: string
    e_name: string
    e_name_en: string | null
    customs_code: string
    uscc: string
    seq: number
  }>(
    `select k.kid, k.alg, k.private_key, t.validity_days, t.name_zh, t.name_en,
       e.name as e_name, e.name_en as e_name_en, e.customs_code, e.uscc, nextval('certificate_number_seq') as seq
     from certificate_keys k, certificate_types t, enterprises e
     where k.status = 'ACTIVE' and t.type = $1 and e.id = $2
     for share of k`,
    [type, consigneeId],
  )
  return (
    r && {
      key: { kid: r.kid, alg: r.alg, privateKey: r.private_key },
      validityDays: r.validity_days,
      typeName: { zh: r.name_zh, en: r.name_en },
      consignee: {
        name: r.e_name,
        ...(r.e_name_en ? { nameEn: r.e_name_en } : {}),
        customsCode: r.customs_code,
        uscc: r.uscc,
      },
      seq: r.seq,
    }
  )
}

// ---- inspections of a declaration -----------------------------------------------------------------------

export async function inspectionsOf(db: Queryable, declarationId: string) {
  const rows = await db.query<{ state: string; result: string | null; finished_at: Date | null }>(
    'select state, result, finished_at from inspections where declaration_id = $1',
    [declarationId],
  )
  return rows.map((r) => ({ state: r.state, result: r.result, finishedAt: iso(r.finished_at) }))
}

// ---- certificates ----------------------------------------------------------------------------------------

export interface NewCertificate {
  id: string
  issuedAt: string
  number: string
  type: string
  declarationId: string
  declarationSubmittedAt: string
  entryId: string
  consigneeId: string
  content: CertificateContent
  digest: string
  kid: string
  token: string
  issuedBy: string
  validFrom: string
  validUntil: string
  replaces: string | null
}

/** Claims the declaration's current certificate; false when it already has one (issuance is then a no-op). */
export async function claimCertificate(
  tx: Tx,
  c: { declarationId: string; certificateId: string; number: string; issuedAt: string },
): Promise<boolean> {
  const rows = await tx.query<{ declaration_id: string }>(
    `insert into certificate_claims (declaration_id, certificate_id, number, issued_at) values ($1, $2, $3, $4)
     on conflict do nothing returning declaration_id`,
    [c.declarationId, c.certificateId, c.number, c.issuedAt],
  )
  return rows.length === 1
}

export async function releaseClaim(tx: Tx, declarationId: string, certificateId: string): Promise<void> {
  await tx.query('delete from certificate_claims where declaration_id = $1 and certificate_id = $2', [
    declarationId,
    certificateId,
  ])
}

/** The number of the declaration's current certificate, if any. */
export async function currentNumber(db: Queryable, declarationId: string): Promise<string | undefined> {
  const [r] = await db.query<{ number: string }>('select number from certificate_claims where declaration_id = $1', [
    declarationId,
  ])
  return r?.number
}

export async function insertCertificate(tx: Tx, c: NewCertificate): Promise<void> {
  await tx.query(
    `insert into certificates (id, issued_at, number, type, declaration_id, declaration_submitted_at, entry_id, consignee_id, content,
       digest, kid, token, issued_by, valid_from, valid_until, replaces)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15, $16)`,
    [
      c.id,
      c.issuedAt,
      c.number,
      c.type,
      c.declarationId,
      c.declarationSubmittedAt,
      c.entryId,
      c.consigneeId,
      JSON.stringify(c.content),
      c.digest,
      c.kid,
      c.token,
      c.issuedBy,
      c.validFrom,
      c.validUntil,
      c.replaces,
    ],
  )
}

interface CertificateRow {
  id: string
  number: string
  type: string
  declaration_id: string
  declaration_submitted_at: Date
  entry_id: string
  consignee_id: string
  content: CertificateContent
  digest: string
  kid: string
  token: string
  issued_at: Date
  issued_by: string
  valid_from: Date
  valid_until: Date
  replaces: string | null
  revoked_at: Date | null
  revocation_reason: RevocationReason | null
  revocation_note: string | null
  revoked_by: string | null
  replaced_by: string | null
}
const COLS = `id, number, type, declaration_id, declaration_submitted_at, entry_id, consignee_id, content, digest, kid, token, issued_at,
  issued_by, valid_from, valid_until, replaces, revoked_at, revocation_reason, revocation_note, revoked_by, replaced_by`

/** A stored certificate (without the verify URL, which depends on where it is served). */
export type StoredCertificate = Omit<Certificate, 'verifyUrl'> & { declarationSubmittedAt: string }

const toCertificate = (r: CertificateRow): StoredCertificate => ({
  id: r.id,
  number: r.number,
  type: r.type,
  declarationId: r.declaration_id,
  declarationSubmittedAt: iso(r.declaration_submitted_at)!,
  entryId: r.entry_id,
  consigneeId: r.consignee_id,
  content: r.content,
  digest: r.digest,
  kid: r.kid,
  token: r.token,
  issuedAt: iso(r.issued_at)!,
  issuedBy: r.issued_by,
  validFrom: iso(r.valid_from)!,
  validUntil: iso(r.valid_until)!,
  replaces: r.replaces,
  revokedAt: iso(r.revoked_at),
  revocationReason: r.revocation_reason,
  revocationNote: r.revocation_note,
  revokedBy: r.revoked_by,
  replacedBy: r.replaced_by,
})

/** By number, within the partitions of its China year; `lock` takes the row FOR UPDATE (inside a transaction). */
export async function findCertificate(
  db: Queryable,
  number: string,
  lock = false,
): Promise<StoredCertificate | undefined> {
  const [from, to] = yearRange(number)
  const [r] = await db.query<CertificateRow>(
    `select ${COLS} from certificates where number = $1 and issued_at >= $2 and issued_at < $3${lock ? ' for update' : ''}`,
    [number, from, to],
  )
  return r && toCertificate(r)
}

export async function listCertificates(
  db: Queryable,
  f: {
    consigneeId?: string | undefined
    declarationId?: string | undefined
    revoked?: boolean | undefined
    from?: string | undefined
    to?: string | undefined
    limit: number
    offset: number
  },
) {
  const rows = await db.query<CertificateRow & { total: number }>(
    `select ${COLS}, count(*) over () as total from certificates
     where ($1::uuid is null or consignee_id = $1) and ($2::uuid is null or declaration_id = $2)
       and ($3::boolean is null or (revoked_at is not null) = $3)
       and ($4::timestamptz is null or issued_at >= $4) and ($5::timestamptz is null or issued_at < $5)
     order by issued_at desc, number desc limit $6 offset $7`,
    [
      f.consigneeId ?? null,
      f.declarationId ?? null,
      f.revoked ?? null,
      f.from ?? null,
      f.to ?? null,
      f.limit,
      f.offset,
    ],
  )
  return { items: rows.map(toCertificate), total: rows[0]?.total ?? 0 }
}

export async function markRevoked(
  tx: Tx,
  c: Pick<StoredCertificate, 'id' | 'issuedAt'>,
  r: { at: string; reason: RevocationReason; note: string | null; by: string; replacedBy: string | null },
) {
  await tx.query(
    `update certificates set revoked_at = $3, revocation_reason = $4, revocation_note = $5, revoked_by = $6, replaced_by = $7
     where id = $1 and issued_at = $2 and revoked_at is null`,
    [c.id, c.issuedAt, r.at, r.reason, r.note, r.by, r.replacedBy],
  )
}
