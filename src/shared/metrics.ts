import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'

/** Application-wide metrics, one registry per app so tests never collide. */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    declarations: new Counter({
      name: 'kouan_declarations_total',
      help: 'Declarations processed, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    lanes: new Counter({
      name: 'kouan_lane_decisions_total',
      help: 'Lane decisions, by lane and source',
      labelNames: ['lane', 'source'] as const,
      registers: [registry],
    }),
    clearance: new Histogram({
      name: 'kouan_clearance_seconds',
      help: 'Submission to release, by port and lane',
      labelNames: ['port', 'lane'] as const,
      buckets: [0.01, 0.1, 1, 10, 60, 600, 3600, 4 * 3600, 24 * 3600, 72 * 3600],
      registers: [registry],
    }),
    inspections: new Counter({
      name: 'kouan_inspection_results_total',
      help: 'Inspection results, by source and result',
      labelNames: ['source', 'result'] as const,
      registers: [registry],
    }),
    archives: new Counter({
      name: 'kouan_archives_created_total',
      help: 'Archives created from cleared declarations (by the sweep or a read)',
      registers: [registry],
    }),
  }
}
export type Metrics = ReturnType<typeof createMetrics>
