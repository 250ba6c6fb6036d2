/**
 * Module boundaries, checked in CI (`npm run deps`; docs/ARCHITECTURE.md "Modules and their boundaries").
 * A module is a folder under src/modules/. Its public face is its index.ts; everything else in it is private.
 * The composition root (src/app.ts, src/server.ts, src/cli.ts) also mounts each module's routes.ts.
 * Tests and benchmarks may reach into a module to set up state; production code may not.
 */
const TESTS = ['\\.test\\.ts$', '^test/', '^bench/', '\\.e2e\\.ts$']

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles (type-only ones included) make load order and ownership unclear.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'module-private',
      severity: 'error',
      comment: 'Another module is reached through its index.ts only; its repo, routes and internals are its own.',
      from: { path: '^src/modules/([^/]+)/', pathNot: TESTS },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'outside-modules-use-index',
      severity: 'error',
      comment:
        'Code outside the modules (app, CLI, simulator) uses their index.ts; the composition root also mounts routes.ts.',
      from: { path: '^src/', pathNot: ['^src/modules/', ...TESTS] },
      to: {
        path: '^src/modules/[^/]+/',
        // routes.ts, and the other Fastify plugins a module may have (declarations' stats-routes.ts, the console's web.ts)
        pathNot: [
          '^src/modules/[^/]+/index\\.ts$',
          '^src/modules/[^/]+/(stats-)?routes\\.ts$',
          '^src/modules/console/web\\.ts$',
        ],
      },
    },
    {
      name: 'routes-only-from-root',
      severity: 'error',
      comment: 'Only the composition root mounts a routes plugin.',
      from: { path: '^src/', pathNot: ['^src/app\\.ts$', '^src/modules/([^/]+)/', ...TESTS] },
      to: { path: '^src/modules/[^/]+/((stats-)?routes|web)\\.ts$' },
    },
    {
      name: 'service-without-http',
      severity: 'error',
      comment: 'Services are plain functions over data: no Fastify.',
      from: { path: '^src/modules/[^/]+/service\\.ts$' },
      to: { path: '(^|/)node_modules/(fastify|@fastify/)' },
    },
    {
      name: 'repo-without-services',
      severity: 'error',
      comment: 'A repository is SQL only; it calls no service.',
      from: { path: '^src/modules/[^/]+/repo\\.ts$' },
      to: { path: '(^|/)service\\.ts$' },
    },
    {
      name: 'web-not-server',
      severity: 'error',
      comment:
        'The console imports server code only for types and the shared, browser-safe modules: limits, the rule field catalogue, signing.',
      from: { path: '^web/' },
      to: {
        path: '^src/',
        pathNot: [
          '^src/modules/[^/]+/limits\\.ts$',
          '^src/modules/selectivity/fields\\.ts$',
          '^src/shared/(signing|sm2)\\.ts$',
        ],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^dist/', '^data/', '^node_modules/', '^web/dist/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: {
      dot: { collapsePattern: '^src/modules/[^/]+|^src/shared|^src/db|^node_modules/[^/]+' },
      archi: { collapsePattern: '^src/modules/[^/]+|^src/shared|^src/db|^src/simulator' },
    },
  },
}
