/**
 * Cross-border e-commerce traffic for the demo (`npm start`): the five parties of retail import (platform,
 * e-shop, payment institution, logistics firm, customs broker) are registered with a port card each, then every
 * second the tickets due are generated (a share with a planted defect) and each party sends its documents as a
 * signed CEB XML message, in shuffled order — what the dashboard's e-commerce panel and the receipts screens show.
 * Over HTTP only, like the declaration simulator.
 */
import { randomBytes } from 'node:crypto'
import { seededRandom } from '../shared/clock.js'
import { ed25519 } from '../shared/signing.js'
import { withUsccCheck } from '../shared/uscc.js'
import {
  SUPPORTED_DEFECTS,
  baseTransferFor,
  generateTicket,
  ticketDocuments,
  toMessageXml,
  type Parties,
} from '../modules/ecommerce/index.js'
import type { CebMessageType } from '../modules/ecommerce/index.js'
import { SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } from '../modules/ecommerce/index.js'
import { Http, Session, cardLogin, passwordLogin, pause, type Credentials, type Res } from './http.js'

export interface CebSimulationOptions {
  baseUrl: string
  /** An officer or admin: registers the parties and issues their cards. */
  officer: Credentials
  /** Tickets (order + payment + waybill + inventory) per second. */
  rate: number
  /** Share of tickets with a planted inconsistency (returned with reasons). Default 0.05. */
  defectRate?: number
  seed?: number
  /** Stop after this many seconds (default: until `signal` aborts). */
  durationSec?: number
  signal?: AbortSignal
  log?: (message: string) => void
  /**
   * An enterprise already holding a card that acts as the customs broker (the inventory lists' sender) instead of a
   * registered one: `kouan start` passes the demo enterprise, so its portal shows e-commerce tickets and receipts. Its
   * promise may resolve later (when the card is ready); undefined, or nothing within a minute, registers a broker.
   */
  agent?: Promise<{ customsCode: string; name: string; cardNo: string; privateKey: string } | undefined>
  /** The China date the documents carry (default: today in China). */
  date?: () => string
  requestTimeoutMs?: number
}

export interface CebSimStats {
  tickets: number
  messages: number
  refusedMessages: number
  plantedDefects: number
  httpErrors: number
}

// Defects that make a whole message unreadable (FORMAT) would refuse the other tickets sent with it.
const DEFECTS = SUPPORTED_DEFECTS.filter((d) => d !== 'FORMAT')
const TYPES: CebMessageType[] = ['CEB311', 'CEB411', 'CEB511', 'CEB621']
const chinaToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)

interface Party {
  role: keyof Omit<Parties, 'area'>
  code: string
  cardNo: string
  privateKey: string
  session: Session
  /** The enterprise's name, for one that was not registered here. */
  name?: string
}

export async function runCebSimulation(opts: CebSimulationOptions): Promise<CebSimStats> {
  if (!(opts.rate > 0)) throw new RangeError(`rate must be positive, got ${opts.rate}`)
  const log = opts.log ?? ((m: string) => console.log(m))
  const stop = opts.signal ?? new AbortController().signal
  const hard = new AbortController()
  stop.addEventListener('abort', () => setTimeout(() => hard.abort(), 2000).unref(), { once: true })
  const http = new Http(opts.baseUrl.replace(/\/+$/, ''), hard.signal, opts.requestTimeoutMs ?? 30_000)
  const stats: CebSimStats = { tickets: 0, messages: 0, refusedMessages: 0, plantedDefects: 0, httpErrors: 0 }
  const seed = opts.seed ?? 1
  const rng = seededRandom(seed)
  // Codes and order numbers unique to this run, so restarts on the same database do not collide.
  const run = randomBytes(4).readUInt32BE(0).toString(36).toUpperCase().padStart(6, '0').slice(-6)
  const fail = (what: string, r: Res<unknown>) => {
    if (r.code === 'STOPPED') return
    stats.httpErrors++
    if (stats.httpErrors <= 5)
      log(`CEB simulator: ${what} failed: ${r.status} ${r.code ?? ''} ${r.message ?? ''}`.trim())
  }

  const officer = new Session(http, passwordLogin(opts.officer))
  for (const t0 = Date.now(); !officer.token; await pause(500, stop)) {
    if (stop.aborted) return stats
    const r = await officer.ensure()
    if (r.status === 401 || r.status === 400)
      throw new Error(`CEB simulator: login of ${opts.officer.username} refused: ${r.code ?? r.status}`)
    if (!officer.token && Date.now() - t0 > 60_000)
      throw new Error(`CEB simulator: server at ${opts.baseUrl} unreachable: ${r.message ?? r.status}`)
  }

  const roles = ['ebp', 'ebc', 'pay', 'logistics', 'agent'] as const
  const SUFFIX = { ebp: 'PF', ebc: 'DS', pay: 'PY', logistics: 'LG', agent: 'AG' }
  const names = { ebp: '跨境电商平台', ebc: '电商企业', pay: '支付企业', logistics: '物流企业', agent: '报关企业' }
  const parties = {} as Record<(typeof roles)[number], Party>
  const agent = opts.agent && (await Promise.race([opts.agent, pause(60_000, stop).then(() => undefined)]))
  if (stop.aborted) return stats
  if (agent) {
    const { customsCode: code, name, cardNo, privateKey } = agent
    const session = new Session(http, cardLogin(cardNo, privateKey))
    parties.agent = { role: 'agent', code, name, cardNo, privateKey, session }
  }
  for (const [i, role] of roles.entries()) {
    if (parties[role]) continue
    const code = `46${run}${SUFFIX[role]}`
    const uscc = withUsccCheck(`91460000MA5${run.slice(-4)}${String(i).padStart(2, '0')}`.replace(/[IOSVZ]/g, '0'))
    const ent = await officer.call<{ id: string }>('POST', '/api/v1/enterprises', {
      uscc,
      customsCode: code,
      name: `模拟${names[role]} ${run}`,
      registeredDistrict: '6400',
    })
    if (ent.status !== 201 || !ent.body) {
      fail(`${role} registration`, ent)
      return stats
    }
    const keys = ed25519.generate()
    const card = await officer.call<{ cardNo: string }>('POST', '/api/v1/cards', {
      enterpriseId: ent.body.id,
      operatorName: `CEB ${role}`,
      publicKey: keys.publicKey,
    })
    if (card.status !== 201 || !card.body) {
      fail(`${role} card`, card)
      return stats
    }
    const session = new Session(http, cardLogin(card.body.cardNo, keys.privateKey))
    parties[role] = { role, code, cardNo: card.body.cardNo, privateKey: keys.privateKey, session }
  }
  const codes: Parties = {
    ebp: parties.ebp.code,
    ebc: parties.ebc.code,
    pay: parties.pay.code,
    logistics: parties.logistics.code,
    agent: parties.agent.code,
    area: `46${run}WH`,
  }
  log(`CEB simulator: 5 parties registered (${codes.ebp}…); sending ${opts.rate} tickets/s as signed CEB XML`)

  const sender: Record<CebMessageType, (chunk: number) => Party> = {
    CEB311: (chunk) => (chunk % 2 ? parties.ebc : parties.ebp),
    CEB411: () => parties.pay,
    CEB511: () => parties.logistics,
    CEB621: () => parties.agent,
  }
  const start = Date.now()
  let index = 0
  for (let second = 0; !stop.aborted; second++) {
    if (opts.durationSec !== undefined && second >= opts.durationSec) break
    const due = Math.floor((second + 1) * opts.rate) - Math.floor(second * opts.rate)
    if (due > 0) {
      const date = (opts.date ?? chinaToday)()
      const tickets = Array.from({ length: due }, () => {
        const defect = rng() < (opts.defectRate ?? 0.05) ? DEFECTS[Math.floor(rng() * DEFECTS.length)]! : null
        if (defect) stats.plantedDefects++
        return generateTicket(rng, {
          index: index++,
          parties: codes,
          prefix: run,
          mode: rng() < 0.7 ? '1210' : '9610',
          defect,
          date,
        })
      })
      stats.tickets += due
      // Parties send independently: the documents of a ticket arrive in any order.
      const order = [...TYPES].sort(() => rng() - 0.5)
      for (const type of order) {
        const party = sender[type](second)
        const xml = toMessageXml(
          type,
          tickets.map((t) => ticketDocuments(t)[type]),
          baseTransferFor(party.code, party.name ?? `模拟${names[party.role]}`),
        )
        const parsed = parseCebXml(xml)
        if (!parsed.ok)
          throw new Error(
            `CEB simulator: generated ${type} does not parse: ${JSON.stringify(parsed.problems.slice(0, 2))}`,
          )
        const r = await party.session.send('POST', '/api/v1/ceb/messages', xml, {
          'content-type': 'application/xml',
          [SIGNATURE_HEADER]: xmlSignatureHeader(party.cardNo, party.privateKey, parsed.message),
        })
        stats.messages++
        if (r.status !== 200) {
          stats.refusedMessages++
          fail(`${type} message`, r)
        }
      }
    }
    await pause(start + (second + 1) * 1000 - Date.now(), stop)
  }
  return stats
}
