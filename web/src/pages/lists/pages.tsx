import type { PageDef } from '../registry.js'
import { ArchiveDetail, ArchiveList } from './Archives.js'
import { CertificateDetail, CertificateList } from './Certificates.js'
import { EcommerceOps, TicketView } from './Ecommerce.js'

/** The lists area's screens (see registry.ts): officers' certificates, archives and e-commerce operations. */
export const PAGES: PageDef[] = [
  {
    path: '/officer/certificates',
    audience: 'officer',
    nav: 'lists.nav.certificates',
    render: () => <CertificateList />,
  },
  {
    path: '/officer/certificates/:number',
    audience: 'officer',
    render: (p) => <CertificateDetail number={p.number!} />,
  },
  { path: '/officer/archives', audience: 'officer', nav: 'lists.nav.archives', render: () => <ArchiveList /> },
  { path: '/officer/archives/:entryId', audience: 'officer', render: (p) => <ArchiveDetail entryId={p.entryId!} /> },
  { path: '/officer/ecommerce', audience: 'officer', nav: 'lists.nav.ecommerce', render: () => <EcommerceOps /> },
  {
    path: '/officer/ecommerce/orders/:orderNo',
    audience: 'officer',
    render: (p) => <TicketView orderNo={p.orderNo!} />,
  },
]
