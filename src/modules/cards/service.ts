import type { Db } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import { appendAudit } from '../../shared/audit.js'
import { algorithms, keyId } from '../../shared/signing.js'
import { conflict, notFound, validationFailed } from '../../errors.js'
import { actorRef, type Actor } from '../auth/index.js'
import { findEnterprise } from '../enterprises/index.js'
import type { Card, IssueCard } from './schema.js'
import * as repo from './repo.js'

export interface Deps {
  db: Db
  clock: Clock
  ids: Ids
}

const CARD_NO_ALPHABET = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ'

/** Card number: `EP` + the enterprise's 10-char customs code + 6 random characters. */
export function cardNumber(customsCode: string, ids: Ids): string {
  const bytes = Buffer.from(ids.token(6), 'base64url')
  let s = ''
  for (const b of bytes) s += CARD_NO_ALPHABET[b % CARD_NO_ALPHABET.length]
  return `EP${customsCode}${s.slice(0, 6).padEnd(6, '0')}`
}

function checkKey(alg: string, publicKey: string, pointer: string) {
  try {
    if (!Object.hasOwn(algorithms, alg)) throw new Error(`unknown alg ${alg}`)
    algorithms[alg]!.parsePublicKey(publicKey)
  } catch {
    throw validationFailed([{ code: 'CARD_BAD_PUBLIC_KEY', message: `not a valid ${alg} public key`, pointer }])
  }
}

/** Issues a new card binding an operator to an enterprise and a public key (the private key stays with the holder). */
export async function issueCard(deps: Deps, actor: Actor, input: IssueCard): Promise<Card> {
  checkKey(input.alg, input.publicKey, '/body/publicKey')
  const now = deps.clock.now().toISOString()
  return deps.db.transaction(async (tx) => {
    const ent = await findEnterprise(tx, input.enterpriseId)
    if (!ent) throw notFound('ENTERPRISE_NOT_FOUND', `enterprise ${input.enterpriseId}`, '/body/enterpriseId')
    if (
      input.kind === 'LEGAL' &&
      (await repo.listCards(tx, { enterpriseId: ent.id, status: 'ACTIVE', limit: 500, offset: 0 })).items.some(
        (c) => c.kind === 'LEGAL',
      )
    ) {
      throw conflict(
        'CARD_LEGAL_EXISTS',
        'the enterprise already has an active legal-entity card; replace it instead',
        '/body/kind',
      )
    }
    const card = await repo.insertCard(tx, {
      id: deps.ids.uuid(),
      cardNo: cardNumber(ent.customsCode, deps.ids),
      enterpriseId: ent.id,
      kind: input.kind,
      operatorName: input.operatorName,
      alg: input.alg,
      publicKey: input.publicKey,
      keyId: keyId(input.publicKey),
      status: 'ACTIVE',
      issueType: 'NEW',
      replaces: null,
      issuedAt: now,
      revokedAt: null,
      revokeReason: null,
    })
    appendAudit(tx, {
      at: new Date(now),
      actor: actorRef(actor),
      action: 'CARD_ISSUED',
      entityType: 'card',
      entityId: card.id,
      data: { cardNo: card.cardNo, enterpriseId: ent.id, alg: card.alg, keyId: card.keyId, kind: card.kind },
    })
    return card
  })
}

/**
 * Replacement (补办): the old card is revoked as SUPERSEDED and a new one issued to the same operator, with the old
 * card's alg unless another is given (an Ed25519 card replaced by an SM2 card).
 */
export async function replaceCard(
  deps: Deps,
  actor: Actor,
  id: string,
  publicKey: string,
  reason: string,
  alg?: string,
): Promise<Card> {
  const now = deps.clock.now().toISOString()
  return deps.db.transaction(async (tx) => {
    const old = await repo.findCard(tx, id)
    if (!old) throw notFound('CARD_NOT_FOUND', `card ${id}`, '/params/id')
    const newAlg = alg ?? old.alg
    checkKey(newAlg, publicKey, '/body/publicKey')
    const revoked = await repo.revokeCard(tx, id, now, 'SUPERSEDED')
    if (!revoked) throw conflict('CARD_NOT_ACTIVE', `card ${old.cardNo} is already revoked`, '/params/id')
    const ent = (await findEnterprise(tx, old.enterpriseId))!
    const card = await repo.insertCard(tx, {
      id: deps.ids.uuid(),
      cardNo: cardNumber(ent.customsCode, deps.ids),
      enterpriseId: ent.id,
      kind: old.kind,
      operatorName: old.operatorName,
      alg: newAlg,
      publicKey,
      keyId: keyId(publicKey),
      status: 'ACTIVE',
      issueType: 'REPLACEMENT',
      replaces: old.id,
      issuedAt: now,
      revokedAt: null,
      revokeReason: null,
    })
    appendAudit(tx, {
      at: new Date(now),
      actor: actorRef(actor),
      action: 'CARD_REVOKED',
      entityType: 'card',
      entityId: old.id,
      data: { cardNo: old.cardNo, reason: 'SUPERSEDED', replacedBy: card.id },
    })
    appendAudit(tx, {
      at: new Date(now),
      actor: actorRef(actor),
      action: 'CARD_ISSUED',
      entityType: 'card',
      entityId: card.id,
      data: { cardNo: card.cardNo, enterpriseId: ent.id, alg: card.alg, keyId: card.keyId, replaces: old.id, reason },
    })
    return card
  })
}

/** Revocation takes effect at once: the next request or signature with the card fails. */
export async function revokeCard(deps: Deps, actor: Actor, id: string, reason: string, note?: string): Promise<Card> {
  const now = deps.clock.now().toISOString()
  return deps.db.transaction(async (tx) => {
    const old = await repo.findCard(tx, id)
    // An operator may report the loss of a card of their own enterprise; another's answers as a missing card.
    if (!old || (actor.kind === 'card' && actor.enterpriseId !== old.enterpriseId))
      throw notFound('CARD_NOT_FOUND', `card ${id}`, '/params/id')
    const card = await repo.revokeCard(tx, id, now, reason)
    if (!card) throw conflict('CARD_NOT_ACTIVE', `card ${old.cardNo} is already revoked`, '/params/id')
    appendAudit(tx, {
      at: new Date(now),
      actor: actorRef(actor),
      action: 'CARD_REVOKED',
      entityType: 'card',
      entityId: id,
      data: { cardNo: old.cardNo, reason, note: note ?? null },
    })
    return card
  })
}
