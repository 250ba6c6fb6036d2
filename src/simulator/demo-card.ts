/**
 * The demo enterprise's port card key file (`kouan start` writes `./data/demo-card.json`): what a newcomer picks in the
 * console's enterprise login. The key is made once and never replaced; only the card number inside follows the
 * database (a new database issues a new card for the same key, and says so).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { ed25519 } from '../shared/signing.js'

export interface DemoCard {
  alg: 'Ed25519'
  publicKey: string
  privateKey: string
  /** The card customs issued for this key in the current database. */
  cardNo?: string
  enterprise?: { name: string; customsCode: string }
}

/** Whether the private key signs what the public key verifies. */
function pairMatches(privateKey: string, publicKey: string): boolean {
  const probe = Buffer.from('kouan demo card')
  try {
    return ed25519.verify(publicKey, probe, ed25519.sign(privateKey, probe))
  } catch {
    return false
  }
}

/** The key file at `path`, or a new key (not yet written) when there is none. A file that is not a key file is an error. */
export function readDemoCard(path: string): { card: DemoCard; existed: boolean } {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    const k = ed25519.generate()
    return { card: { alg: 'Ed25519', publicKey: k.publicKey, privateKey: k.privateKey }, existed: false }
  }
  const card = JSON.parse(text) as Partial<DemoCard>
  if (
    card.alg !== 'Ed25519' ||
    typeof card.publicKey !== 'string' ||
    typeof card.privateKey !== 'string' ||
    !pairMatches(card.privateKey, card.publicKey)
  ) {
    throw new Error(
      `${path} is not a demo card key file (alg Ed25519, publicKey, privateKey of one pair): move it away or fix it`,
    )
  }
  return { card: card as DemoCard, existed: true }
}

/**
 * Writes the key file: a new one only if none exists meanwhile (mode 600), or the card number of the existing one. The
 * key in an existing file is never replaced.
 */
export function writeDemoCard(path: string, card: DemoCard, existed: boolean): void {
  const text = `${JSON.stringify(card, null, 2)}\n`
  if (!existed) {
    writeFileSync(path, text, { flag: 'wx', mode: 0o600 })
    return
  }
  const { card: onDisk } = readDemoCard(path)
  if (onDisk.publicKey !== card.publicKey || onDisk.privateKey !== card.privateKey)
    throw new Error(`${path} changed meanwhile; left as it is`)
  writeFileSync(path, text, { mode: 0o600 })
}
