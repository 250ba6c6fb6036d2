import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { openPglite, openPostgres } from '../src/db/index.js'
import { migrate } from '../src/db/migrate.js'

declare module 'vitest' {
  export interface ProvidedContext {
    db: { kind: 'pglite'; dump: string } | { kind: 'postgres'; url: string; template: string }
  }
}

/**
 * Migrates one database for the whole run. PGlite: its data dir is dumped to a file that each test file
 * loads. PostgreSQL (DATABASE_URL set): a template database each test file clones with CREATE DATABASE.
 */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL
  if (url) {
    const template = `kouan_tpl_${process.pid}`
    const admin = postgres(url, { max: 1, onnotice: () => {} })
    await admin.unsafe(`drop database if exists ${template}`)
    await admin.unsafe(`create database ${template}`)
    const u = new URL(url)
    u.pathname = `/${template}`
    const db = openPostgres(u.toString(), 1)
    await migrate(db)
    await db.close()
    project.provide('db', { kind: 'postgres', url, template })
    return async () => {
      // Clones left by crashed files are removed with the template.
      const left = await admin<
        { datname: string }[]
      >`select datname from pg_database where datname like ${'kouan_t_' + process.pid + '_%'}`
      for (const { datname } of left) await admin.unsafe(`drop database if exists ${datname} with (force)`)
      await admin.unsafe(`drop database if exists ${template} with (force)`)
      await admin.end()
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'kouan-test-'))
  const db = await openPglite()
  await migrate(db)
  const blob = await db.dumpDataDir!()
  const dump = join(dir, 'migrated.tar')
  writeFileSync(dump, Buffer.from(await blob.arrayBuffer()))
  await db.close()
  project.provide('db', { kind: 'pglite', dump })
  return () => rmSync(dir, { recursive: true, force: true })
}
