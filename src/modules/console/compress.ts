/**
 * Writes `.br` and `.gz` siblings of the built console's text files, so the server sends them pre-compressed
 * (@fastify/static `preCompressed`) instead of compressing on every request. `npm run build` runs it after vite:
 * `node dist/src/modules/console/compress.js [dir]` (default dist/web).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { WEB_DIR } from './web.js'

const TEXT = /\.(js|mjs|css|html|svg|json|txt|map)$/
/** Smaller files gain nothing worth a second request path. */
const MIN_BYTES = 1024

/** Compresses the text files under `dir` (recursively); returns how many. */
export function compressDir(dir: string): number {
  let files = 0
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) {
      files += compressDir(path)
      continue
    }
    if (!TEXT.test(name) || statSync(path).size < MIN_BYTES) continue
    const data = readFileSync(path)
    writeFileSync(
      `${path}.br`,
      brotliCompressSync(data, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
      }),
    )
    writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }))
    files++
  }
  return files
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? WEB_DIR
  console.log(`compressed ${compressDir(dir)} console files in ${dir} (.br, .gz)`)
}
