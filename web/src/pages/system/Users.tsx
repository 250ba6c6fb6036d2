import { useRef, useState, type FormEvent, type ReactNode } from 'react'
import type { User } from '../../../../src/modules/auth/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { Async, ErrorBox, useAction, useAsync, useFocusOn } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime } from '../../lib/format.js'
import { useQuery } from '../../router.js'
import { useSession } from '../../session.js'
import { ConfirmDialog, useConfirm } from '../../components/Dialog.js'
import { FieldError, fieldErrors, fieldOf, invalid } from '../../components/Fields.js'
import { QueryFilters } from '../../components/Filters.js'
import { Pager } from '../../components/Pager.js'

const SIZE = 20

/** Customs user accounts (admins): list, create, disable/enable, set a password. */
export function Users() {
  const { t } = useT()
  const me = useSession()
  const { query, set } = useQuery()
  const q = query.get('q') ?? ''
  const status = query.get('status') ?? ''
  const page = Math.max(1, Number(query.get('page')) || 1)
  const users = useAsync(
    () =>
      api<{ items: User[]; total: number }>(
        'GET',
        `/api/v1/users?${new URLSearchParams({
          ...(q ? { q } : {}),
          ...(status ? { status } : {}),
          limit: String(SIZE),
          offset: String((page - 1) * SIZE),
        }).toString()}`,
      ),
    [q, status, page],
  )
  const [dialog, ask] = useConfirm()
  const { busy, error, run } = useAction()
  const [notice, setNotice] = useState<{ text: string; password?: string | undefined }>()
  const noticeRef = useFocusOn<HTMLDivElement>(notice)
  const [pwFor, setPwFor] = useState<User>()

  const act = (id: string, f: () => Promise<void>) => run(id, f, users.reload)
  const toggle = async (u: User) => {
    const disable = u.disabledAt === null
    if (disable && !(await ask(t('sys.users.confirmDisable', { name: u.username }), t('sys.users.disable')))) return
    await act(u.id, async () => {
      await api('POST', `/api/v1/users/${u.id}/${disable ? 'disable' : 'enable'}`)
      setNotice({ text: t(disable ? 'sys.users.disabled' : 'sys.users.enabled', { name: u.username }) })
    })
  }

  return (
    <Layout>
      <div className="page-head">
        <h1>{t('sys.users.title')}</h1>
      </div>
      {dialog}
      {notice && (
        <div className="notice" role="status" tabIndex={-1} ref={noticeRef} data-testid="users-notice">
          {notice.text}
          {notice.password && (
            <>
              {' '}
              {t('sys.users.generated')} <code className="sys-secret">{notice.password}</code>
            </>
          )}
        </div>
      )}
      <CreateUser
        onCreated={(u, password) => {
          setNotice({ text: t('sys.users.created', { name: u.username }), password })
          users.reload()
        }}
      />
      {pwFor && (
        <PasswordDialog
          user={pwFor}
          onClose={(done) => {
            setPwFor(undefined)
            if (done) setNotice({ text: t('sys.users.passwordSet', { name: pwFor.username }) })
          }}
        />
      )}
      <section className="card-panel">
        <QueryFilters names={['q', 'status']} className="row">
          <label className="grow">
            {t('sys.users.search')}
            <input name="q" type="search" defaultValue={q} maxLength={64} />
          </label>
          <label>
            {t('common.status')}
            <select name="status" defaultValue={status}>
              <option value="">{t('portal.all')}</option>
              <option value="active">{t('sys.users.active')}</option>
              <option value="disabled">{t('sys.users.disabledState')}</option>
            </select>
          </label>
          <button type="submit">{t('common.search')}</button>
        </QueryFilters>
        {error !== undefined && <ErrorBox error={error} />}
        <Async state={users} empty={(d) => d.items.length === 0} emptyText={t('sys.users.none')}>
          {(d) => (
            <>
              <table className="grid" data-testid="users">
                <caption className="sys-caption">{t('sys.users.caption', { total: d.total })}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('login.username')}</th>
                    <th scope="col">{t('sys.users.displayName')}</th>
                    <th scope="col">{t('sys.users.role')}</th>
                    <th scope="col">{t('common.createdAt')}</th>
                    <th scope="col">{t('common.status')}</th>
                    <th scope="col">{t('common.actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((u) => {
                    const self = me?.name === u.username
                    return (
                      <tr key={u.id} data-user={u.username}>
                        <th scope="row">{u.username}</th>
                        <td>{u.displayName}</td>
                        <td>{t(`sys.role.${u.role}`)}</td>
                        <td>{chinaTime(u.createdAt)}</td>
                        <td>
                          {u.disabledAt ? (
                            <span className="badge state-rejected">
                              {t('sys.users.disabledState')} <small>{chinaTime(u.disabledAt)}</small>
                            </span>
                          ) : (
                            <span className="badge state-released">{t('sys.users.active')}</span>
                          )}
                        </td>
                        <td className="actions">
                          <button
                            type="button"
                            disabled={busy === u.id || (self && u.disabledAt === null)}
                            title={self ? t('sys.users.notSelf') : undefined}
                            aria-label={`${t(u.disabledAt ? 'sys.users.enable' : 'sys.users.disable')} ${u.username}`}
                            onClick={() => void toggle(u)}>
                            {t(u.disabledAt ? 'sys.users.enable' : 'sys.users.disable')}
                          </button>{' '}
                          <button
                            type="button"
                            aria-label={`${t('sys.users.setPassword')} ${u.username}`}
                            onClick={() => setPwFor(u)}>
                            {t('sys.users.setPassword')}
                          </button>
                        </td>
                      </tr>
                    )
                  })}
                </tbody>
              </table>
              <Pager
                offset={(page - 1) * SIZE}
                total={d.total}
                page={SIZE}
                onChange={(o) => set({ page: o / SIZE + 1 })}
              />
            </>
          )}
        </Async>
      </section>
    </Layout>
  )
}

function CreateUser({ onCreated }: { onCreated: (u: User, password?: string) => void }) {
  const { t } = useT()
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const errors = fieldErrors(error, t)
  const form = useRef<HTMLFormElement>(null)
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const f = new FormData(e.currentTarget)
    const displayName = String(f.get('displayName') ?? '')
    const password = String(f.get('password') ?? '')
    setBusy(true)
    setError(undefined)
    try {
      const r = await api<{ user: User; password?: string }>('POST', '/api/v1/users', {
        username: String(f.get('username') ?? '').trim(),
        role: String(f.get('role')),
        ...(displayName ? { displayName } : {}),
        ...(password ? { password } : {}),
      })
      form.current?.reset()
      onCreated(r.user, r.password)
    } catch (err) {
      setError(err)
      // Focus the first field in error, so its message is read.
      setTimeout(() => form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), 0)
    } finally {
      setBusy(false)
    }
  }
  const field = (name: string, label: string, input: (p: Record<string, unknown>) => ReactNode) => {
    const id = `user-${name}`
    const pointer = `/body/${name}`
    return (
      <label htmlFor={id} className={name === 'displayName' ? 'grow' : undefined}>
        {label}
        {input({ id, name, ...invalid(`${id}-err`, errors[fieldOf(pointer)]) })}
        <FieldError id={`${id}-err`} text={errors[fieldOf(pointer)]} />
      </label>
    )
  }
  return (
    <form className="card-panel" ref={form} onSubmit={(e) => void submit(e)} noValidate aria-labelledby="user-new">
      <h2 id="user-new">{t('sys.users.new')}</h2>
      <div className="row">
        {field('username', t('login.username'), (p) => (
          <input {...p} required maxLength={64} autoComplete="off" />
        ))}
        {field('displayName', t('sys.users.displayName'), (p) => (
          <input {...p} maxLength={100} />
        ))}
        {field('role', t('sys.users.role'), (p) => (
          <select {...p} defaultValue="officer">
            <option value="officer">{t('sys.role.officer')}</option>
            <option value="admin">{t('sys.role.admin')}</option>
          </select>
        ))}
        {field('password', t('sys.users.initialPassword'), (p) => (
          <input {...p} type="password" autoComplete="new-password" maxLength={256} />
        ))}
        <button type="submit" className="primary" disabled={busy}>
          {t('sys.users.create')}
        </button>
      </div>
      <p className="hint">{t('sys.users.passwordHint')}</p>
      {error !== undefined && <ErrorBox error={error} />}
    </form>
  )
}

/** Sets a user's password in a modal dialog (their sessions end). */
function PasswordDialog({ user, onClose }: { user: User; onClose: (done: boolean) => void }) {
  const { t } = useT()
  const [error, setError] = useState<unknown>()
  const errors = fieldErrors(error, t)
  const [busy, setBusy] = useState(false)
  const submit = async (f: FormData) => {
    setBusy(true)
    setError(undefined)
    try {
      await api('POST', `/api/v1/users/${user.id}/password`, { password: String(f.get('password') ?? '') })
      onClose(true)
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return (
    <ConfirmDialog
      title={t('sys.users.setPasswordOf', { name: user.username })}
      confirmLabel={t('common.save')}
      danger={false}
      busy={busy}
      onConfirm={(f) => void submit(f)}
      onClose={() => onClose(false)}>
      <p className="hint">{t('sys.users.passwordEnds')}</p>
      <label htmlFor="pw-new">
        {t('sys.users.newPassword')}
        <input
          id="pw-new"
          name="password"
          type="password"
          autoComplete="new-password"
          autoFocus
          {...invalid('pw-new-err', errors.password)}
        />
        <FieldError id="pw-new-err" text={errors.password} />
      </label>
      {error !== undefined && !errors.password && <ErrorBox error={error} />}
    </ConfirmDialog>
  )
}
