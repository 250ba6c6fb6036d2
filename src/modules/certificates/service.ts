import type { Db, Queryable, Tx } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import { appendAudit } from '../../shared/audit.js'
import { algorithms, ed25519, keyId, type AlgorithmName } from '../../shared/signing.js'
import { sm2 } from '../../shared/sm2.js'
import { KouanError, conflict, notFound } from '../../errors.js'
import { actorRef, type Actor } from '../auth/index.js'
import type { Declaration, DeclarationContent } from '../declarations/index.js'
import { chinaYear } from '../declarations/index.js'
import { findDeclaration } from '../declarations/index.js'
import { certificateFields, officeOf, type PrintedField } from './fields.js'
import * as repo from './repo.js'
import type {
  CertificateContent,
  Jwks,
  QuarantineRange,
  Reason,
  RevocationReason,
  Verdict,
  Verification,
} from './schema.js'
import {
  contentDigest,
  parseToken,
  signToken,
  signatureValid,
  tokenFromInput,
  type ParseResult,
  type SigningKey,
  type TokenKind,
} from './token.js'

export interface Deps {
  db: Db
  clock: Clock
  ids: Ids
}

/** The type of certificate issued on release of quarantine goods (入境货物检验检疫证明). */
export const ENTRY_CERTIFICATE = 'ENTRY_IQ'
export const SYSTEM_ISSUER = 'system:certificates'

// ---- rules (pure) -------------------------------------------------------------------------------------------

/** The quarantine range an item falls in: its HS prefix of the range's length within the range, and the CIQ code if the range names one. */
export function quarantineRangeOf(
  ranges: readonly QuarantineRange[],
  item: { hsCode: string; ciqCode?: string | undefined },
): QuarantineRange | undefined {
  return ranges.find((r) => {
    const p = item.hsCode.slice(0, r.hsFrom.length)
    return p >= r.hsFrom && p <= r.hsTo && (!r.ciqCode || r.ciqCode === item.ciqCode)
  })
}

/** The goods lines of a declaration that need quarantine, as printed on a certificate. */
export function quarantineGoods(
  ranges: readonly QuarantineRange[],
  c: DeclarationContent,
): CertificateContent['goods'] {
  return c.items.flatMap((it, i) => {
    const r = quarantineRangeOf(ranges, it)
    return r
      ? [
          {
            gNo: i + 1,
            hsCode: it.hsCode,
            description: it.description,
            quantity: it.quantity,
            unit: it.unit,
            originCountry: it.originCountry,
            category: r.category,
          },
        ]
      : []
  })
}

/** Automatic issuance needs at least one inspection, every one finished and compliant (no open hold). */
export function inspectionsPassed(list: ReadonlyArray<{ state: string; result: string | null }>): boolean {
  return list.length > 0 && list.every((i) => i.state === 'DONE' && i.result === 'COMPLIANT')
}

/** The number of a certificate: district, China year, `Q`, 9-digit sequence. */
export function certificateNumber(district: string, at: Date, seq: number): string {
  return `${district}${chinaYear(at)}Q${String(seq % 1_000_000_000).padStart(9, '0')}`
}

/** A registry record, as verification sees it. */
export interface RegistryEntry {
  storedDigest: string
  /** Digest recomputed from the stored content (differs from storedDigest if the registry row was altered). */
  contentDigest: string
  kid: string
  issuedAt: string
  validFrom: string
  /** First instant no longer valid. */
  validUntil: string
  /** Printouts: validity is the archive's retention, and its end reads RETENTION_ENDED. */
  retention: boolean
  revokedAt: string | null
  revocationReason: RevocationReason | null
  replacedBy: string | null
  fields: PrintedField[]
}

const GROUP: Record<Reason, Verdict> = {
  OK: 'AUTHENTIC',
  MALFORMED: 'MALFORMED',
  UNSUPPORTED_VERSION: 'MALFORMED',
  UNSUPPORTED_ALGORITHM: 'MALFORMED',
  KEY_UNKNOWN: 'UNKNOWN_ISSUER',
  KEY_NOT_VALID_AT_SIGNING: 'UNKNOWN_ISSUER',
  SIGNATURE_INVALID: 'TAMPERED',
  CONTENT_MISMATCH: 'TAMPERED',
  NOT_FOUND: 'TAMPERED',
  REVOKED: 'REVOKED',
  EXPIRED: 'EXPIRED',
  NOT_YET_VALID: 'EXPIRED',
  RETENTION_ENDED: 'EXPIRED',
}
const PRECEDENCE: Verdict[] = ['MALFORMED', 'UNKNOWN_ISSUER', 'TAMPERED', 'REVOKED', 'EXPIRED']

/**
 * The verdict on a token (DOMAIN §6, after OpenAttestation's integrity, status and identity checks): every
 * failed check is listed; the verdict is the first failed group in the order MALFORMED > UNKNOWN_ISSUER >
 * TAMPERED > REVOKED > EXPIRED, else AUTHENTIC. The registry is consulted only for a token whose signature
 * verifies with a published key (`entry`: the record, or null when there is none); a token that passes every
 * other check without a registry answer is never AUTHENTIC (this function refuses to judge it).
 * Printed fields are shown only for authentic, revoked or expired documents.
 */
export function judge(i: {
  now: Date
  parsed: ParseResult
  key?: { alg: string; publicKey: string; activatedAt: string; retiredAt: string | null } | undefined
  entry?: RegistryEntry | null | undefined
}): Verification {
  const reasons: Reason[] = []
  const out: Verification = {
    verdict: 'AUTHENTIC',
    reasons,
    kind: null,
    number: null,
    keyId: null,
    statusChecked: false,
    checkedAt: i.now.toISOString(),
    issuedAt: null,
    validUntil: null,
    revokedAt: null,
    revocationReason: null,
    replacedBy: null,
    fields: [],
  }
  if (!i.parsed.ok) reasons.push(i.parsed.reason)
  else {
    const t = i.parsed.token
    Object.assign(out, { kind: t.kind, number: t.number, keyId: t.kid })
    if (!i.key) reasons.push('KEY_UNKNOWN')
    else if (!algorithms[i.key.alg]) reasons.push('UNSUPPORTED_ALGORITHM')
    else if (!signatureValid(t, i.key)) reasons.push('SIGNATURE_INVALID')
    else if (i.entry === undefined)
      throw new Error('a token with a valid signature is judged only against the registry')
    else if (i.entry === null) {
      out.statusChecked = true
      reasons.push('NOT_FOUND')
    } else {
      const e = i.entry
      out.statusChecked = true
      if (e.storedDigest !== t.digest || e.contentDigest !== e.storedDigest || e.kid !== t.kid)
        reasons.push('CONTENT_MISMATCH')
      const issued = Date.parse(e.issuedAt)
      if (issued < Date.parse(i.key.activatedAt) || (i.key.retiredAt && issued > Date.parse(i.key.retiredAt)))
        reasons.push('KEY_NOT_VALID_AT_SIGNING')
      if (e.revokedAt) reasons.push('REVOKED')
      const now = i.now.getTime()
      if (now >= Date.parse(e.validUntil)) reasons.push(e.retention ? 'RETENTION_ENDED' : 'EXPIRED')
      else if (now < Date.parse(e.validFrom)) reasons.push('NOT_YET_VALID')
      Object.assign(out, {
        issuedAt: e.issuedAt,
        validUntil: e.validUntil,
        revokedAt: e.revokedAt,
        revocationReason: e.revocationReason,
        replacedBy: e.replacedBy,
      })
    }
  }
  if (reasons.length === 0) reasons.push('OK')
  else out.verdict = PRECEDENCE.find((v) => reasons.some((r) => GROUP[r] === v))!
  if (out.verdict === 'AUTHENTIC' || out.verdict === 'REVOKED' || out.verdict === 'EXPIRED')
    out.fields = i.entry?.fields ?? []
  else
    Object.assign(out, { issuedAt: null, validUntil: null, revokedAt: null, revocationReason: null, replacedBy: null })
  return out
}

// ---- caches ------------------------------------------------------------------------------------------------

// Quarantine ranges, reloaded at most every 5 s (of the injected clock) and at once after a local change.
let ranges: { at: number; items: QuarantineRange[] } | undefined
async function quarantineRanges(q: Queryable, now: Date): Promise<QuarantineRange[]> {
  if (!ranges || now.getTime() - ranges.at > 5000 || now.getTime() < ranges.at)
    ranges = { at: now.getTime(), items: await repo.loadQuarantineRanges(q) }
  return ranges.items
}
export function invalidateQuarantineCache() {
  ranges = undefined
}

/**
 * Public keys for verification, per process: reloaded every 5 s, and on a key id it does not know (at most once
 * a second, so forged key ids cannot hammer the database). Reads only.
 */
class KeyRing {
  private keys = new Map<string, repo.KeyRow>()
  private loadedAt = -Infinity
  async get(db: Queryable, kid: string): Promise<repo.KeyRow | undefined> {
    const age = performance.now() - this.loadedAt
    if (age > 5000 || (!this.keys.has(kid) && age > 1000)) {
      this.keys = new Map((await repo.listKeys(db)).map((k) => [k.kid, k]))
      this.loadedAt = performance.now()
    }
    return this.keys.get(kid)
  }
  invalidate() {
    this.loadedAt = -Infinity
  }
}
const keyRing = new KeyRing()

// ---- keys --------------------------------------------------------------------------------------------------

async function createKey(
  tx: Tx,
  at: Date,
  actor: string,
  algName: AlgorithmName = 'Ed25519',
): Promise<string | undefined> {
  const alg = algorithms[algName] ?? ed25519
  const k = alg.generate()
  const kid = keyId(k.publicKey)
  if (!(await repo.insertActiveKey(tx, { kid, alg: alg.alg, ...k, createdBy: actor, at: at.toISOString() })))
    return undefined
  appendAudit(tx, {
    at,
    actor,
    action: 'CERTIFICATE_KEY_ACTIVATED',
    entityType: 'certificate_key',
    entityId: kid,
    data: { alg: alg.alg, publicKey: k.publicKey },
  })
  return kid
}

/** Makes an issuing key if none is active (at start; issuance also does it lazily). */
export async function ensureIssuingKey(db: Db, clock: Clock): Promise<void> {
  const [active] = await db.query(`select 1 from certificate_keys where status = 'ACTIVE'`)
  if (!active) await db.transaction((tx) => createKey(tx, clock.now(), 'system:kouan'))
  keyRing.invalidate()
}

/**
 * The active issuing key, locked for this transaction (creating the first one if there is none). Read the clock
 * after this: a rotation waits for the transaction, so nothing signed here is dated after the key's retirement.
 */
export async function lockSigningKey(tx: Tx, clock: Clock): Promise<SigningKey> {
  let key = await repo.activeSigningKey(tx)
  if (!key) {
    await createKey(tx, clock.now(), 'system:kouan')
    key = await repo.activeSigningKey(tx)
  }
  if (!key) throw new Error('no active issuing key')
  return key
}

/**
 * Rotates the issuing key: the active key is retired (it keeps verifying what it signed) and a new one signs
 * from now on. The active row is locked first, so certificates being issued finish with the old key, and the
 * time is read after the lock, so none of them carries a later issue time than the retirement. The new key is of
 * `alg` (Ed25519 by default, or SM2); tokens signed by retired keys of either algorithm keep verifying.
 */
export async function rotateKey(
  deps: Deps,
  who: string,
  alg: AlgorithmName = 'Ed25519',
): Promise<{ retired: string | null; activated: string }> {
  const r = await deps.db.transaction(async (tx) => {
    await tx.query(`select kid from certificate_keys where status = 'ACTIVE' for update`)
    const at = deps.clock.now()
    const retired = (await repo.retireActiveKey(tx, at.toISOString())) ?? null
    if (retired)
      appendAudit(tx, {
        at,
        actor: who,
        action: 'CERTIFICATE_KEY_RETIRED',
        entityType: 'certificate_key',
        entityId: retired,
        data: {},
      })
    const activated = await createKey(tx, at, who, alg)
    if (!activated)
      throw conflict('CERTIFICATE_KEY_ROTATION_RACE', 'another rotation happened at the same moment; retry')
    return { retired, activated }
  })
  keyRing.invalidate()
  return r
}

/**
 * The published key set (JWKS, RFC 7517/8037) with each key's validity window: what offline verifiers need. Ed25519
 * keys are OKP JWKs (alg EdDSA); SM2 keys are EC JWKs with crv "SM2" and alg "SM2" (neither is IANA-registered; the
 * names follow this installation's algorithm registry: SM2 with SM3, signer ID 1234567812345678, r‖s signatures).
 */
export async function publicKeys(db: Queryable): Promise<Jwks> {
  const keys: Jwks['keys'] = []
  for (const k of await repo.listKeys(db)) {
    const window = {
      use: 'sig' as const,
      kid: k.kid,
      status: k.status,
      activatedAt: k.activatedAt,
      retiredAt: k.retiredAt,
    }
    if (k.alg === 'Ed25519') keys.push({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', x: k.publicKey, ...window })
    else if (k.alg === 'SM2') {
      const { x, y } = sm2.parsePublicKey(k.publicKey)
      const coordinate = (v: bigint) => Buffer.from(v.toString(16).padStart(64, '0'), 'hex').toString('base64url')
      keys.push({ kty: 'EC', crv: 'SM2', alg: 'SM2', x: coordinate(x), y: coordinate(y), ...window })
    }
  }
  return { keys }
}

// ---- issuance ----------------------------------------------------------------------------------------------

interface IssueInput {
  declaration: Pick<Declaration, 'id' | 'submittedAt' | 'entryId' | 'traderId' | 'content'>
  goods: CertificateContent['goods']
  inspection: CertificateContent['inspection']
  issuedBy: string
  replaces?: string | undefined
  remarks?: string | undefined
}

/**
 * Issues a certificate inside `tx`: number, content, digest, signed token, claim and audit. Returns undefined
 * when the declaration already has a current certificate (idempotent).
 */
async function issueInTx(
  tx: Tx,
  deps: Pick<Deps, 'clock' | 'ids'>,
  i: IssueInput,
): Promise<repo.StoredCertificate | undefined> {
  const d = i.declaration
  let ctx = await repo.issuingContext(tx, ENTRY_CERTIFICATE, d.traderId)
  if (!ctx) {
    await createKey(tx, deps.clock.now(), 'system:kouan')
    ctx = await repo.issuingContext(tx, ENTRY_CERTIFICATE, d.traderId)
    if (!ctx) throw new Error(`cannot issue for declaration ${d.id}: no key, certificate type or consignee`)
  }
  // Read after the key is locked: see rotateKey.
  const at = deps.clock.now()
  const issuedAt = at.toISOString()
  const validUntil = new Date(at.getTime() + ctx.validityDays * 86_400_000).toISOString()
  const number = certificateNumber(d.content.customsDistrict, at, ctx.seq)
  const content: CertificateContent = {
    type: ENTRY_CERTIFICATE,
    number,
    entryId: d.entryId ?? '',
    issuedAt,
    validUntil,
    issuingOffice: officeOf(d.content.customsDistrict),
    consignee: ctx.consignee,
    tradeCountry: d.content.tradeCountry,
    iePort: d.content.iePort,
    ...(d.content.billNo ? { billNo: d.content.billNo } : {}),
    goods: i.goods,
    inspection: i.inspection,
    ...(i.replaces ? { replaces: i.replaces } : {}),
    ...(i.remarks ? { remarks: i.remarks } : {}),
  }
  const digest = contentDigest(content)
  const id = deps.ids.uuid()
  if (!(await repo.claimCertificate(tx, { declarationId: d.id, certificateId: id, number, issuedAt }))) return undefined
  const token = signToken({ kind: 'CERTIFICATE', number, digest, kid: ctx.key.kid }, ctx.key)
  const row: repo.NewCertificate = {
    id,
    issuedAt,
    number,
    type: ENTRY_CERTIFICATE,
    declarationId: d.id,
    declarationSubmittedAt: d.submittedAt,
    entryId: content.entryId,
    consigneeId: d.traderId,
    content,
    digest,
    kid: ctx.key.kid,
    token,
    issuedBy: i.issuedBy,
    validFrom: issuedAt,
    validUntil,
    replaces: i.replaces ?? null,
  }
  await repo.insertCertificate(tx, row)
  appendAudit(tx, {
    at,
    actor: i.issuedBy,
    action: 'CERTIFICATE_ISSUED',
    entityType: 'certificate',
    entityId: number,
    data: {
      declarationId: d.id,
      entryId: content.entryId,
      digest,
      kid: ctx.key.kid,
      ...(i.replaces ? { replaces: i.replaces } : {}),
    },
  })
  return { ...row, revokedAt: null, revocationReason: null, revocationNote: null, revokedBy: null, replacedBy: null }
}

const latest = (xs: Array<{ finishedAt: string | null }>) =>
  xs
    .map((x) => x.finishedAt)
    .filter((x): x is string => !!x)
    .sort()
    .at(-1) ?? null

/**
 * Called in the release transaction of every declaration: an import whose goods need quarantine, released after
 * all its inspections finished compliant, gets its certificate at once, with no human step. Other releases
 * (no inspection, a non-compliant one, no quarantine goods) issue nothing; an officer decides.
 */
export async function issueOnRelease(tx: Tx, deps: Pick<Deps, 'clock' | 'ids'>, d: Declaration): Promise<void> {
  // Only after inspections: a declaration never sent to inspection (most of intake's releases) needs no look-up.
  if (d.ieFlag !== 'I' || !d.inspectionOrderedAt) return
  const goods = quarantineGoods(await quarantineRanges(tx, deps.clock.now()), d.content)
  if (goods.length === 0) return
  const inspections = await repo.inspectionsOf(tx, d.id)
  if (!inspectionsPassed(inspections)) return
  await issueInTx(tx, deps, {
    declaration: d,
    goods,
    inspection: { result: 'COMPLIANT', finishedAt: latest(inspections) },
    issuedBy: SYSTEM_ISSUER,
  })
}

/**
 * An officer issues the certificate of a released import of quarantine goods (when automatic issuance did not,
 * e.g. after a disposal). Idempotent: a declaration with a current certificate gets it back (200).
 */
export async function issueCertificate(
  deps: Deps,
  actor: Actor,
  input: { declarationId: string; note?: string | undefined },
): Promise<{ status: 200 | 201; certificate: repo.StoredCertificate }> {
  const d = await findDeclaration(deps.db, input.declarationId)
  if (!d) throw notFound('DECLARATION_NOT_FOUND', `declaration ${input.declarationId}`, '/body/declarationId')
  if (d.state !== 'RELEASED' && d.state !== 'CLEARED') {
    throw new KouanError(
      'CERTIFICATE_DECLARATION_NOT_RELEASED',
      409,
      `a ${d.state} declaration gets no certificate; goods are certified on release`,
      { pointer: '/body/declarationId' },
    )
  }
  const goods = d.ieFlag === 'I' ? quarantineGoods(await quarantineRanges(deps.db, deps.clock.now()), d.content) : []
  if (goods.length === 0)
    throw new KouanError(
      'CERTIFICATE_NOT_REQUIRED',
      422,
      'no goods of this declaration need entry inspection and quarantine',
      { pointer: '/body/declarationId' },
    )
  const who = actorRef(actor)
  const issued = await deps.db.transaction(async (tx) => {
    if (await repo.currentNumber(tx, d.id)) return undefined
    return issueInTx(tx, deps, {
      declaration: d,
      goods,
      inspection: { result: 'OFFICER_DECISION', finishedAt: latest(await repo.inspectionsOf(tx, d.id)) },
      issuedBy: who,
      remarks: input.note,
    })
  })
  if (issued) return { status: 201, certificate: issued }
  return {
    status: 200,
    certificate: (await repo.findCertificate(deps.db, (await repo.currentNumber(deps.db, d.id))!))!,
  }
}

async function lockedCurrent(tx: Tx, number: string) {
  const c = await repo.findCertificate(tx, number, true)
  if (!c) throw notFound('CERTIFICATE_NOT_FOUND', `certificate ${number}`, '/params/number')
  if (c.revokedAt)
    throw conflict(
      'CERTIFICATE_REVOKED',
      `certificate ${number} was revoked on ${c.revokedAt} (${c.revocationReason})`,
      '/params/number',
    )
  return c
}

/** An officer revokes a certificate (audited); the declaration may then be certified afresh. */
export async function revokeCertificate(
  deps: Deps,
  actor: Actor,
  number: string,
  reason: Exclude<RevocationReason, 'SUPERSEDED'>,
  note?: string,
) {
  const who = actorRef(actor)
  return deps.db.transaction(async (tx) => {
    const c = await lockedCurrent(tx, number)
    const at = deps.clock.now()
    await repo.markRevoked(tx, c, { at: at.toISOString(), reason, note: note ?? null, by: who, replacedBy: null })
    await repo.releaseClaim(tx, c.declarationId, c.id)
    appendAudit(tx, {
      at,
      actor: who,
      action: 'CERTIFICATE_REVOKED',
      entityType: 'certificate',
      entityId: number,
      data: { declarationId: c.declarationId, reason, ...(note ? { note } : {}) },
    })
    return (await repo.findCertificate(tx, number))!
  })
}

/**
 * An officer re-issues a certificate: a new number with the same goods and result, the consignee as registered
 * now, `replaces` naming the old one, which is revoked as SUPERSEDED with `replacedBy`. Both steps are audited.
 */
export async function reissueCertificate(deps: Deps, actor: Actor, number: string, note?: string) {
  const who = actorRef(actor)
  return deps.db.transaction(async (tx) => {
    const old = await lockedCurrent(tx, number)
    const d = await findDeclaration(tx, old.declarationId)
    if (!d) throw notFound('DECLARATION_NOT_FOUND', `declaration ${old.declarationId}`, '/params/number')
    await repo.releaseClaim(tx, d.id, old.id)
    const fresh = await issueInTx(tx, deps, {
      declaration: d,
      goods: old.content.goods,
      inspection: old.content.inspection,
      issuedBy: who,
      replaces: old.number,
      remarks: note,
    })
    if (!fresh)
      throw conflict(
        'DECLARATION_CONCURRENT_CHANGE',
        'the declaration got another certificate meanwhile; reload and retry',
        '/params/number',
      )
    await repo.markRevoked(tx, old, {
      at: fresh.issuedAt,
      reason: 'SUPERSEDED',
      note: note ?? null,
      by: who,
      replacedBy: fresh.number,
    })
    appendAudit(tx, {
      at: new Date(fresh.issuedAt),
      actor: who,
      action: 'CERTIFICATE_REVOKED',
      entityType: 'certificate',
      entityId: old.number,
      data: { declarationId: d.id, reason: 'SUPERSEDED', replacedBy: fresh.number },
    })
    return fresh
  })
}

/** A certificate an actor may see: officers all, operators those whose consignee is their enterprise (else 404). */
export async function getCertificate(db: Queryable, actor: Actor, number: string) {
  const c = await repo.findCertificate(db, number)
  if (!c || (actor.kind === 'card' && c.consigneeId !== actor.enterpriseId))
    throw notFound('CERTIFICATE_NOT_FOUND', `certificate ${number}`, '/params/number')
  return c
}

/** Admins replace the quarantine HS table (audited); effective at once in this process, within 5 s in others. */
export async function replaceQuarantineTable(deps: Deps, actor: Actor, items: QuarantineRange[]) {
  const problems = items.flatMap((r, i) =>
    r.hsTo.length !== r.hsFrom.length || r.hsTo < r.hsFrom
      ? [
          {
            code: 'CERTIFICATE_BAD_HS_RANGE',
            message: `range ${r.hsFrom}–${r.hsTo} needs two codes of the same length, in order`,
            pointer: `/body/items/${i}/hsTo`,
          },
        ]
      : [],
  )
  if (problems.length) throw new KouanError(problems[0]!.code, 422, problems[0]!.message, { errors: problems })
  await deps.db.transaction(async (tx) => {
    await repo.replaceQuarantineRanges(tx, items)
    appendAudit(tx, {
      at: deps.clock.now(),
      actor: actorRef(actor),
      action: 'QUARANTINE_RANGES_REPLACED',
      entityType: 'quarantine_ranges',
      entityId: 'table',
      data: { items },
    })
  })
  invalidateQuarantineCache()
  return { items: await repo.loadQuarantineRanges(deps.db) }
}

// ---- verification ------------------------------------------------------------------------------------------

/**
 * Where printouts of other documents are looked up (archive printouts: the archives module's `printoutEntry`, wired by
 * the composition root), so that certificates need not know their tables.
 */
export type PrintoutLookup = (db: Queryable, serial: string) => Promise<RegistryEntry | null>

async function registryEntry(
  db: Queryable,
  kind: TokenKind,
  number: string,
  printouts: PrintoutLookup | undefined,
): Promise<RegistryEntry | null> {
  if (kind === 'CERTIFICATE') {
    const c = await repo.findCertificate(db, number)
    if (!c) return null
    return {
      storedDigest: c.digest,
      contentDigest: contentDigest(c.content),
      kid: c.kid,
      issuedAt: c.issuedAt,
      validFrom: c.validFrom,
      validUntil: c.validUntil,
      retention: false,
      revokedAt: c.revokedAt,
      revocationReason: c.revocationReason,
      replacedBy: c.replacedBy,
      fields: certificateFields(c.content),
    }
  }
  return printouts ? printouts(db, number) : null
}

/**
 * Verifies a token or scanned verify URL for anyone: format, key, signature, then the registry (certificate or
 * printout), revocation and validity. Reads only; never writes.
 */
export async function verifyToken(
  deps: Pick<Deps, 'db' | 'clock'> & { printouts?: PrintoutLookup | undefined },
  input: string,
): Promise<Verification> {
  const parsed = parseToken(tokenFromInput(input))
  const now = deps.clock.now()
  if (!parsed.ok) return judge({ now, parsed })
  const key = await keyRing.get(deps.db, parsed.token.kid)
  if (!key || !algorithms[key.alg] || !signatureValid(parsed.token, key)) return judge({ now, parsed, key })
  return judge({
    now,
    parsed,
    key,
    entry: await registryEntry(deps.db, parsed.token.kind, parsed.token.number, deps.printouts),
  })
}
