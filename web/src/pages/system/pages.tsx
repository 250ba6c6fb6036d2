import type { PageDef } from '../registry.js'
import { Archives } from './Archives.js'
import { Audit } from './Audit.js'
import { CertKeys } from './CertKeys.js'
import { Selectivity } from './Selectivity.js'
import { Users } from './Users.js'

/** The system area's screens (see registry.ts): administration of accounts, parameters, keys, archives, audit. */
export const PAGES: PageDef[] = [
  { path: '/admin/users', audience: 'admin', nav: 'sys.nav.users', group: 'admin', render: () => <Users /> },
  // Officers may read the parameters; only admins see the save button.
  {
    path: '/admin/selectivity',
    audience: 'officer',
    nav: 'sys.nav.selectivity',
    group: 'admin',
    render: () => <Selectivity />,
  },
  {
    path: '/admin/certificate-keys',
    audience: 'admin',
    nav: 'sys.nav.keys',
    group: 'admin',
    render: () => <CertKeys />,
  },
  { path: '/admin/archives', audience: 'admin', nav: 'sys.nav.archives', group: 'admin', render: () => <Archives /> },
  { path: '/admin/audit', audience: 'admin', nav: 'sys.nav.audit', group: 'admin', render: () => <Audit /> },
]
