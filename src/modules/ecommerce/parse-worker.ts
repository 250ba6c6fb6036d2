/**
 * Worker-thread entry of the CEB parse pool ({@link ./parse-pool.ts}): parses and format-checks one XML message
 * and puts each document in canonical form, off the thread that serves HTTP and talks to the database.
 */
import { canonicalJson } from '../../shared/signing.js'
import { parseCebXml, type CebParseResult } from './xml.js'

export type PreparedXml = CebParseResult & { canonical?: string[] }

/** Parse result plus, when it parsed, the canonical JSON of each document (hash, signature and stored body use it). */
export function prepareXml(xml: Uint8Array): PreparedXml {
  const r = parseCebXml(Buffer.isBuffer(xml) ? xml : Buffer.from(xml.buffer, xml.byteOffset, xml.byteLength))
  return r.ok ? { ...r, canonical: r.message.documents.map((d) => canonicalJson(d)) } : r
}

export default ({ xml }: { xml: Uint8Array }): PreparedXml => prepareXml(xml)
