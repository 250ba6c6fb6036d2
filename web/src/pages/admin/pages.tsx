import type { PageDef } from '../registry.js'
import { AeoPartners } from './AeoPartners.js'
import { CardList } from './Cards.js'
import { EnterpriseList, EnterpriseView } from './Enterprises.js'
import { IssueCard } from './IssueCard.js'

/**
 * The admin area's screens (see registry.ts): enterprises and their credit levels, the AEO partner list, port cards.
 * Officers may do all of it per the authorization matrix except editing the AEO partners (admins; officers read).
 */
export const PAGES: PageDef[] = [
  {
    path: '/admin/enterprises',
    audience: 'officer',
    group: 'admin',
    nav: 'admin.nav.enterprises',
    render: () => <EnterpriseList />,
  },
  { path: '/admin/enterprises/:id', audience: 'officer', group: 'admin', render: (p) => <EnterpriseView id={p.id!} /> },
  {
    path: '/admin/aeo-partners',
    audience: 'officer',
    group: 'admin',
    nav: 'admin.nav.aeo',
    render: () => <AeoPartners />,
  },
  { path: '/admin/cards', audience: 'officer', group: 'admin', nav: 'admin.nav.cards', render: () => <CardList /> },
  { path: '/admin/cards/new', audience: 'officer', group: 'admin', render: () => <IssueCard /> },
]
