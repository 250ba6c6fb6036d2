/**
 * Worker-thread entry of the CEB parse pool ({@link ./parse-pool.ts}): parses and format-checks one XML message
 * and puts each document in canonical form, off the thread that serves HTTP and talks to the database.
 */
import { canonicalJson, sha256Hex } from '../../shared/signing.js'
import { messageCanonicalJson } from './keys.js'
import { parseCebXml, type CebParseResult } from './xml.js'

/**
 * Parse result plus, when it parsed, what intake needs of the documents' canonical JSON: each document's (the stored
 * body), its SHA-256 (content hash) and the message's as UTF-8 bytes (what the signature covers). All of it is
 * computed here, on the parse thread, so the thread that runs the database does not.
 */
export type PreparedXml = CebParseResult & { canonical?: string[]; hashes?: string[]; signed?: Uint8Array }

export function prepareXml(xml: Uint8Array): PreparedXml {
  const r = parseCebXml(Buffer.isBuffer(xml) ? xml : Buffer.from(xml.buffer, xml.byteOffset, xml.byteLength))
  if (!r.ok) return r
  const canonical = r.message.documents.map((d) => canonicalJson(d))
  return {
    ...r,
    canonical,
    hashes: canonical.map(sha256Hex),
    signed: new TextEncoder().encode(messageCanonicalJson(r.message, canonical)),
  }
}

export default ({ xml }: { xml: Uint8Array }): PreparedXml => prepareXml(xml)
