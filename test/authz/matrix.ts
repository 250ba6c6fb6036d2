/**
 * The expected authorization matrix: for every operation of the OpenAPI document, the status each role gets.
 * test/authz/matrix.test.ts sends each request (test/authz/requests.ts says how) and compares; an operation of the
 * document without a row here fails the test, as does a row whose operation is gone.
 *
 * Roles: `anon` (no token), `opA` (operator of enterprise A, the owner of every resource the path names), `opB`
 * (operator of enterprise B: another enterprise's resource), `officer`, `admin`. Where a path names a resource,
 * it is A's. These are the statuses the rules call for, not necessarily what the app answers today: a row the app
 * does not meet is a finding to fix in the app, not here.
 *
 * Conventions:
 * - Another enterprise's resource is a 404 (as if it did not exist, so no one learns what exists; also when an
 *   operator acts on it, e.g. revokes B's card), except the enterprise record itself (403, documented: enterprise
 *   registrations are not secret).
 * - Where the world cannot make a call succeed (no trained model, nothing to roll back), the row shows the domain
 *   answer that comes after the role check (404, 409, 422): it still tells allowed from refused.
 * - `POST /declarations/batch` answers 200 with one result per declaration: the row shows the one item's status.
 * - Bodies are validated before the role is checked, so every request carries a valid body; an invalid one gets
 *   400 from anyone (tested by the fuzz suites, not here).
 */
import type { Role } from './world.js'

export type Row = Record<Role, number>

export const EXPECTED: Record<string, Row> = {
  // ---- public -------------------------------------------------------------------------------------------------
  'GET /api/v1/health': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'POST /api/v1/auth/login': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'POST /api/v1/auth/challenge': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'POST /api/v1/auth/card-login': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/auth/me': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/reference/hs': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/reference/hs/{code}': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/reference/countries': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/reference/currencies': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/reference/trade-modes': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/reference/transport-modes': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/reference/transaction-terms': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/reference/units': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/reference/customs-offices': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },

  // ---- enterprises --------------------------------------------------------------------------------------------
  'POST /api/v1/enterprises': { anon: 401, opA: 403, opB: 403, officer: 201, admin: 201 },
  'GET /api/v1/enterprises': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/enterprises/{id}': { anon: 401, opA: 200, opB: 403, officer: 200, admin: 200 },
  'PATCH /api/v1/enterprises/{id}': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/enterprises/{id}/credit': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/enterprises/{id}/credit-history': { anon: 401, opA: 200, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/aeo-partners': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'PUT /api/v1/aeo-partners': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },

  // ---- appointments (预约通关) ------------------------------------------------------------------------------------
  'POST /api/v1/appointments': { anon: 401, opA: 201, opB: 403, officer: 403, admin: 403 },
  'GET /api/v1/appointments': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/appointments/stats': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/appointments/stream': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/appointments/{id}': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },
  'POST /api/v1/appointments/{id}/reschedule': { anon: 401, opA: 200, opB: 404, officer: 403, admin: 403 },
  'POST /api/v1/appointments/{id}/cancel': { anon: 401, opA: 200, opB: 404, officer: 403, admin: 403 },
  'POST /api/v1/appointments/{id}/explanation': { anon: 401, opA: 200, opB: 404, officer: 403, admin: 403 },
  'POST /api/v1/appointments/{id}/accept': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/appointments/{id}/reject': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/appointments/{id}/hold': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/appointments/{id}/remove': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/appointment-slots': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'PUT /api/v1/appointment-slots': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/appointment-sites': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'PUT /api/v1/appointment-sites/{code}': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },

  // ---- user accounts (admins) ------------------------------------------------------------------------------------
  'GET /api/v1/users': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },
  'POST /api/v1/users': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 201 },
  'POST /api/v1/users/{id}/disable': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },
  'POST /api/v1/users/{id}/enable': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },
  'POST /api/v1/users/{id}/password': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },

  // ---- port cards ---------------------------------------------------------------------------------------------
  'POST /api/v1/cards': { anon: 401, opA: 403, opB: 403, officer: 201, admin: 201 },
  'GET /api/v1/cards': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/cards/stats': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/cards/{id}': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },
  'POST /api/v1/cards/{id}/replace': { anon: 401, opA: 403, opB: 403, officer: 201, admin: 201 },
  'POST /api/v1/cards/{id}/revoke': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },

  // ---- declarations -------------------------------------------------------------------------------------------
  // opB submits as declarant for trader A without an entrustment (issue 10, finding 3): 403.
  'POST /api/v1/declarations': { anon: 401, opA: 201, opB: 403, officer: 403, admin: 403 },
  'GET /api/v1/declarations': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'POST /api/v1/declarations/batch': { anon: 401, opA: 201, opB: 403, officer: 403, admin: 403 },
  'GET /api/v1/declarations/{id}': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },
  'GET /api/v1/declarations/{id}/audit': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },
  'POST /api/v1/declarations/{id}/release': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/declarations/{id}/return': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/declarations/{id}/clear': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/declarations/{id}/accept': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/declarations/{id}/reject': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },

  // ---- selectivity --------------------------------------------------------------------------------------------
  'GET /api/v1/selectivity/rules': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/selectivity/rules': { anon: 401, opA: 403, opB: 403, officer: 201, admin: 201 },
  'GET /api/v1/selectivity/rules/{id}': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/selectivity/rules/{id}/activate': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/selectivity/rules/{id}/deactivate': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/selectivity/params': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  // Parameters can switch random control off: admins only.
  'PUT /api/v1/selectivity/params': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },
  'GET /api/v1/selectivity/hit-rates': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },

  // ---- inspections, statistics, risk --------------------------------------------------------------------------
  'GET /api/v1/inspections': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/inspections/{id}': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/inspections/{id}/start': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/inspections/{id}/result': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/stats/clearance': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/risk/models': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  // Too few inspection results to train on (RISK_NOT_ENOUGH_LABELS), no model to promote, none to roll back to.
  'POST /api/v1/risk/models/train': { anon: 401, opA: 403, opB: 403, officer: 422, admin: 422 },
  'POST /api/v1/risk/models/{version}/promote': { anon: 401, opA: 403, opB: 403, officer: 404, admin: 404 },
  'POST /api/v1/risk/models/rollback': { anon: 401, opA: 403, opB: 403, officer: 409, admin: 409 },
  'GET /api/v1/risk/status': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/risk/hit-rates/weekly': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },

  // ---- cross-border e-commerce --------------------------------------------------------------------------------
  // opB replays A's signed message with its own session: the signing card is not B's.
  'POST /api/v1/ceb/messages': { anon: 401, opA: 200, opB: 403, officer: 403, admin: 403 },
  // Tickets: B's list holds only the tickets B is a party of (checked: no A identifier in B's answer); A's ticket is a
  // 404 to B, as an unknown order.
  'GET /api/v1/ceb/orders': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/ceb/orders/{orderNo}': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },
  'GET /api/v1/ceb/orders/{orderNo}/receipts.xml': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  // A non-party gets an empty list, as for an order that does not exist (checked: no A identifier in B's answer).
  'GET /api/v1/ceb/orders/{orderNo}/receipts': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/ceb/orders/{orderNo}/tax-bill': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/ceb/buyers/{buyerIdNumber}/total': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'PUT /api/v1/ceb/webhook': { anon: 401, opA: 200, opB: 200, officer: 403, admin: 403 },
  // The party registry: an operator reads its own enterprise's roles only (another's is a 404, as an unknown code);
  // recording roles decides who may send which document: officers and admins.
  'GET /api/v1/ceb/parties/{customsCode}': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },
  'PUT /api/v1/ceb/parties/{customsCode}': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/ceb/stats': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },

  // ---- entrustments (报关委托): A entrusts a third enterprise D (declarant) ---------------------------------------
  // Only the trader's operators propose, in their own enterprise's name (opB signing A's terms: 403); officers and
  // admins see all, but are no party: they neither propose, accept, decline nor revoke.
  'POST /api/v1/entrustments': { anon: 401, opA: 201, opB: 403, officer: 403, admin: 403 },
  // B's list is scoped to B's entrustments (checked: no A identifier in B's answer).
  'GET /api/v1/entrustments': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/entrustments/{id}': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },
  // Accept and decline are the declarant's (D's operators: tested in matrix.test.ts); the trader A gets 403.
  'POST /api/v1/entrustments/{id}/accept': { anon: 401, opA: 403, opB: 404, officer: 403, admin: 403 },
  'POST /api/v1/entrustments/{id}/decline': { anon: 401, opA: 403, opB: 404, officer: 403, admin: 403 },
  'POST /api/v1/entrustments/{id}/revoke': { anon: 401, opA: 200, opB: 404, officer: 403, admin: 403 },

  // ---- console ------------------------------------------------------------------------------------------------
  'GET /api/v1/console/dashboard': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/console/stream': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/console/queue': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/console/rules/preview': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },

  // ---- certificates -------------------------------------------------------------------------------------------
  'POST /api/v1/certificates/verify': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/certificates/keys': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'POST /api/v1/certificates/keys/rotate': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },
  'GET /api/v1/certificates/quarantine-ranges': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'PUT /api/v1/certificates/quarantine-ranges': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },
  'GET /api/v1/certificates': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  // The declaration has its certificate already: 200 with it (idempotent).
  'POST /api/v1/certificates': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'GET /api/v1/certificates/{number}': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },
  'GET /api/v1/certificates/{number}/pdf': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },
  'GET /api/v1/certificates/{number}/audit': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },
  'POST /api/v1/certificates/{number}/revoke': { anon: 401, opA: 403, opB: 403, officer: 200, admin: 200 },
  'POST /api/v1/certificates/{number}/reissue': { anon: 401, opA: 403, opB: 403, officer: 201, admin: 201 },

  // ---- archives -----------------------------------------------------------------------------------------------
  'GET /api/v1/archives': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/archives/export': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/archives/prints': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /api/v1/archives/retention-rules': { anon: 401, opA: 200, opB: 200, officer: 200, admin: 200 },
  'PUT /api/v1/archives/retention-rules': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },
  'POST /api/v1/archives/purge': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },
  'GET /api/v1/archives/purge-runs': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },
  'GET /api/v1/archives/{entryId}': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },
  'POST /api/v1/archives/{entryId}/print': { anon: 401, opA: 200, opB: 404, officer: 200, admin: 200 },

  // ---- audit checkpoints (admins: a collector copies them out of the database's reach) -------------------------
  'GET /api/v1/audit/checkpoints': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },
  'GET /api/v1/audit/checkpoint-keys': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },
  'POST /api/v1/audit/verify': { anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 },

  // ---- public verification ------------------------------------------------------------------------------------
  'GET /verify/{*}': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /.well-known/jwks.json': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
}

/**
 * Routes the app registers but leaves out of the OpenAPI document, and who may reach them. A status list allows
 * any of them; `null` is not asserted (deployment-dependent).
 */
export type HiddenRow = Record<Role, number | readonly number[] | null>

export const HIDDEN: Record<string, HiddenRow> = {
  // The API description is public, like the API's public routes it describes.
  'GET /api/openapi.json': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  // Prometheus metrics show lane decisions and clearance times per port (issue 10, finding 5): behind a metrics
  // token (401/403) or on a separate listen address (404 here), so no enterprise session opens them.
  'GET /metrics': { anon: [401, 404], opA: [401, 403, 404], opB: [401, 403, 404], officer: null, admin: null },
  // The web console's files and its deep links: public pages (the data behind them is the API's).
  'GET /': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
  'GET /{*}': { anon: 200, opA: 200, opB: 200, officer: 200, admin: 200 },
}
