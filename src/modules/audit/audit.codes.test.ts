import { describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows, untilSomeoneWaitsOnALock } from '../../../test/db.js'
import { ed25519, keyId } from '../../shared/signing.js'
import * as repo from './repo.js'
import { checkpointSigner, grantAppRole, takeCheckpoints } from './service.js'

const onPostgres = !!process.env.DATABASE_URL

describe('audit module error codes', () => {
  const t = useTestApp()
  const deps = () => ({ db: t.db, clock: t.clock, config: t.app.kouan.config })

  it.skipIf(onPostgres)(
    'DB_ROLES_POSTGRES_ONLY: granting an application role on embedded PGlite is refused (422 at /role), nothing granted',
    async () => {
      await expect(grantAppRole(t.db, 'kouan_app')).rejects.toMatchObject({
        code: 'DB_ROLES_POSTGRES_ONLY',
        statusCode: 422,
        pointer: '/role',
      })
    },
  )

  // PGlite runs one transaction at a time, so a rotation never overlaps a checkpoint there. On PostgreSQL a checkpoint
  // that read the active key just before a rotation committed must not sign with the retired key.
  it.skipIf(!onPostgres)(
    'AUDIT_CHECKPOINT_KEY_ROTATION_RACE: a checkpoint overtaken by a key rotation is refused (409), no checkpoint written',
    async () => {
      const before = await checkpointSigner(deps())
      const k = ed25519.generate()
      let commit!: () => void
      const gate = new Promise<void>((resolve) => {
        commit = resolve
      })
      let rotated!: () => void
      const begun = new Promise<void>((resolve) => {
        rotated = resolve
      })
      // A rotation caught between its writes and its commit.
      const rotation = t.db.transaction(async (tx) => {
        const at = t.clock.now().toISOString()
        expect(await repo.retireActiveKey(tx, at)).toBe(before.kid)
        expect(
          await repo.insertActiveKey(tx, {
            kid: keyId(k.publicKey),
            alg: 'Ed25519',
            publicKey: k.publicKey,
            privateKey: k.privateKey,
            createdBy: 'test',
            at,
          }),
        ).toBe(true)
        rotated()
        await gate
      })
      await begun
      const checkpoints = await countRows(t.db, 'audit_checkpoints')
      const taking = takeCheckpoints(deps()).then(
        () => undefined,
        (e: unknown) => e,
      )
      // Wait (a barrier, not a timed sleep) until the checkpoint's lock on the key waits on the rotation.
      await untilSomeoneWaitsOnALock(t.db, 'the checkpoint waiting on the rotation')
      commit()
      await rotation
      expect(await taking).toMatchObject({ code: 'AUDIT_CHECKPOINT_KEY_ROTATION_RACE', statusCode: 409 })
      expect(await countRows(t.db, 'audit_checkpoints')).toBe(checkpoints)
      // The next run signs with the new key.
      expect((await takeCheckpoints(deps())).kid).toBe(keyId(k.publicKey))
    },
  )
})
