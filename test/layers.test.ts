import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const MODULES = join(import.meta.dirname, '..', 'src', 'modules')
const imports = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^import\s.*?from\s+'([^']+)'/gms)].map((m) => m[1]!)

/** STYLE.md rule 11: domain code stays free of HTTP; SQL never reaches up into routes. */
describe('layer rules', () => {
  const modules = readdirSync(MODULES)
  it.each(modules.filter((m) => existsSync(join(MODULES, m, 'service.ts'))))(
    '%s/service.ts does not import fastify',
    (m) => {
      expect(
        imports(join(MODULES, m, 'service.ts')).filter((i) => i.startsWith('fastify') || i.startsWith('@fastify')),
      ).toEqual([])
    },
  )
  it.each(modules.filter((m) => existsSync(join(MODULES, m, 'repo.ts'))))(
    '%s/repo.ts imports no routes or services',
    (m) => {
      expect(imports(join(MODULES, m, 'repo.ts')).filter((i) => /routes|service/.test(i))).toEqual([])
    },
  )
})
