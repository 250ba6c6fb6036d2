import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * Every error code the server can answer with is asserted by at least one test.
 *
 * Codes come from the TypeScript syntax of src/**\/*.ts (tests and the simulator, an HTTP client, excluded), at
 * these places:
 *  A. the `code` argument of `new KouanError(…)` and of every factory src/errors.ts exports with a parameter named
 *     `code` (`notFound`, `unauthorized`, `conflict`, and any added later);
 *  B. the `code:` property of an object literal that also has `message` or `pointer` (ErrorItem, CebProblem, the
 *     archive refusals, Fastify's mapped codes);
 *  C. the argument passed as the parameter named `code` of a helper declared in the same file
 *     (`bad(code, …)` in declarations/lifecycle.ts, `add(code, …)` in ecommerce/rules.ts, `refuse(x, code, …)`);
 *  D. the keys of the documented CEB reason-code map `REASON_CODES` (ecommerce/rules.ts): receipts and CEB900
 *     answers carry them as `code`.
 * In A–C the expression's possible values count: a SCREAMING_SNAKE string literal, an identifier naming a
 * `const X = 'CODE'` of src (its value), both branches of `c ? 'A' : 'B'` (not the condition), both sides of
 * `a ?? 'FORMAT'`; any other expression passes on a code collected where it was made (`problems[0].code`). A
 * template literal is a code built at run time: it must be listed in DYNAMIC below with its expansions, or this
 * test fails.
 *
 * A test mentions a code only where it asserts it: a string literal in test code (src/**\/*.test.ts, test/**\/*.ts)
 *  1. inside the arguments of a call whose callee starts with an identifier `expect…`/`assert…` (`expect(x).toBe('X')`,
 *     `expect(r).toMatchObject({ code: 'X' })`, `expect.objectContaining(…)`, a helper `expectProblem(res, 'X', …)`),
 *  2. inside the table of `it.each` / `test.each` / `describe.each`,
 *  3. passed to a function of the same test file that itself calls `expect`, or
 *  4. in the initializer of a variable of the same test file that is used inside 1–3, or iterated by a `for … of`
 *     (or `.forEach`/`.map` callback) that asserts; also a list written straight into such a `for … of`.
 * A code that only appears as input does not count: one inside the arguments of a call that does not assert or
 * inside a function (`expect((await post({ code: 'X' })).statusCode)`, `const res = await post({ code: 'X' })`,
 * a fixture nobody asserts) is input, except on the expected side of a matcher (`.toEqual(new Set(['X']))`) and in a
 * call to a builder of expected values of the same file (`const R = (code, pointer) => ({ code, pointer })`). This file itself does not count.
 * `CODES_DEBUG=1 npx vitest run test/error-codes.test.ts` prints both lists with the place of each code.
 */

const ROOT = join(import.meta.dirname, '..')
const CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Z]{3,}$/

/** Codes built at run time from a template literal: the template as written in the source → its expansions. */
const DYNAMIC: Record<string, { expansions: string[]; why: string }> = {
  // enterprises/service.ts: `ENTERPRISE_USCC_${p}` where p is a UsccProblem of src/shared/uscc.ts.
  'ENTERPRISE_USCC_${p}': {
    expansions: ['ENTERPRISE_USCC_LENGTH', 'ENTERPRISE_USCC_CHARACTER', 'ENTERPRISE_USCC_CHECK'],
    why: "UsccProblem = 'LENGTH' | 'CHARACTER' | 'CHECK'",
  },
}

/**
 * `code`/`message` objects that are not errors: the reasons a lane was chosen, stored with each selectivity
 * decision (selectivity/engine.ts, the model reasons in declarations/service.ts). They are no answer's `code`.
 */
const NOT_ERROR_CODES = new Set([
  'RULE_LANE',
  'RULE_SCORE',
  'RANDOM',
  'CREDIT',
  'AEO_BLUE',
  'CREDIT_MIN_LANE',
  'CAPACITY',
  'MODEL_INTERCEPT',
  'MODEL_EXPLORE',
  'NO_RISK',
  'MODEL',
  'MODEL_FEATURE',
])

/** Maps of documented codes: file → the exported constant whose keys are codes. */
const CODE_MAPS: Record<string, string> = { 'src/modules/ecommerce/rules.ts': 'REASON_CODES' }

function files(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .filter(keep)
    .sort()
}

type Source = { path: string; sf: ts.SourceFile }
const source = (path: string, text = readFileSync(join(ROOT, path), 'utf8')): Source => ({
  path,
  sf: ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true),
})

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node)
  node.forEachChild((c) => walk(c, visit))
}

const isString = (n: ts.Node): n is ts.StringLiteral | ts.NoSubstitutionTemplateLiteral =>
  ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)
const propName = (n: ts.ObjectLiteralElementLike): string | undefined =>
  n.name && (ts.isIdentifier(n.name) || ts.isStringLiteral(n.name)) ? n.name.text : undefined

/** Functions declared in a file with a parameter named `code`: name → the parameter's position. */
function codeParameters(sf: ts.SourceFile): Map<string, number> {
  const out = new Map<string, number>()
  walk(sf, (n) => {
    const fn = ts.isFunctionDeclaration(n)
      ? n
      : ts.isVariableDeclaration(n) &&
          n.initializer &&
          (ts.isArrowFunction(n.initializer) || ts.isFunctionExpression(n.initializer))
        ? n.initializer
        : undefined
    const name = ts.isFunctionDeclaration(n)
      ? n.name?.text
      : ts.isVariableDeclaration(n) && ts.isIdentifier(n.name)
        ? n.name.text
        : undefined
    if (!fn || !name) return
    const i = fn.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === 'code')
    if (i >= 0) out.set(name, i)
  })
  return out
}

/** The codes of the server, each with one place it is made. */
function sourceCodes(sources: Source[]): { codes: Map<string, string>; templates: Map<string, string> } {
  // const X = 'CODE' anywhere in src: identifiers naming them resolve to their value (e.g. `code: FORMAT`).
  const constants = new Map<string, string>()
  for (const { sf } of sources) {
    walk(sf, (n) => {
      if (
        ts.isVariableDeclaration(n) &&
        ts.isIdentifier(n.name) &&
        n.initializer &&
        isString(n.initializer) &&
        CODE.test(n.initializer.text)
      )
        constants.set(n.name.text, n.initializer.text)
    })
  }
  const codes = new Map<string, string>()
  const templates = new Map<string, string>()
  // KouanError and the factories of src/errors.ts: name → position of the parameter named `code`.
  const throwers = new Map<string, number>([['KouanError', 0]])
  const errorsTs = sources.find((s) => s.path === 'src/errors.ts')
  for (const [name, i] of errorsTs ? codeParameters(errorsTs.sf) : []) throwers.set(name, i)
  for (const { path, sf } of sources) {
    const at = (n: ts.Node) => `${path}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`
    /** The codes an expression can evaluate to: literals, constants, both branches of `?:`, both sides of `??`/`||`. */
    const collect = (e: ts.Expression): void => {
      if (isString(e)) {
        if (CODE.test(e.text) && !codes.has(e.text)) codes.set(e.text, at(e))
      } else if (ts.isIdentifier(e)) {
        const v = constants.get(e.text)
        if (v && !codes.has(v)) codes.set(v, at(e))
      } else if (ts.isTemplateExpression(e)) templates.set(e.getText(sf).slice(1, -1), at(e))
      else if (ts.isConditionalExpression(e)) {
        collect(e.whenTrue)
        collect(e.whenFalse)
      } else if (
        ts.isBinaryExpression(e) &&
        [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(e.operatorToken.kind)
      ) {
        collect(e.left)
        collect(e.right)
      } else if (
        ts.isParenthesizedExpression(e) ||
        ts.isAsExpression(e) ||
        ts.isNonNullExpression(e) ||
        ts.isSatisfiesExpression(e)
      )
        collect(e.expression)
      // Anything else (a call, `problems[0].code`) passes on a code collected where it was made.
    }
    const helpers = codeParameters(sf)
    walk(sf, (n) => {
      if ((ts.isNewExpression(n) || ts.isCallExpression(n)) && ts.isIdentifier(n.expression)) {
        const name = n.expression.text
        const i = ts.isNewExpression(n)
          ? name === 'KouanError'
            ? 0
            : undefined
          : (throwers.get(name) ?? helpers.get(name))
        const arg = i === undefined ? undefined : n.arguments?.[i]
        if (arg) collect(arg)
      } else if (ts.isObjectLiteralExpression(n)) {
        const names = n.properties.map(propName)
        const code = n.properties.find((p) => propName(p) === 'code')
        if (code && ts.isPropertyAssignment(code) && (names.includes('message') || names.includes('pointer')))
          collect(code.initializer)
      } else if (
        ts.isVariableDeclaration(n) &&
        ts.isIdentifier(n.name) &&
        CODE_MAPS[path] === n.name.text &&
        n.initializer
      ) {
        let init: ts.Expression = n.initializer
        while (ts.isSatisfiesExpression(init) || ts.isAsExpression(init)) init = init.expression
        if (ts.isObjectLiteralExpression(init))
          for (const p of init.properties) {
            const k = propName(p)
            if (k && !codes.has(k)) codes.set(k, at(p))
          }
      }
    })
  }
  for (const c of NOT_ERROR_CODES) codes.delete(c)
  for (const [template, d] of Object.entries(DYNAMIC)) {
    if (!templates.has(template)) continue
    for (const c of d.expansions) if (!codes.has(c)) codes.set(c, templates.get(template)!)
  }
  return { codes, templates }
}

/** Codes the tests assert, each with one place one does. */
function assertedCodes(tests: Source[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const { path, sf } of tests) {
    const at = (n: ts.Node) => `${path}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`
    const rootName = (e: ts.Expression): string | undefined => {
      while (true) {
        if (ts.isIdentifier(e)) return e.text
        if (
          ts.isPropertyAccessExpression(e) ||
          ts.isCallExpression(e) ||
          ts.isElementAccessExpression(e) ||
          ts.isNonNullExpression(e) ||
          ts.isParenthesizedExpression(e)
        )
          e = e.expression
        else if (ts.isAwaitExpression(e)) e = e.expression
        else return undefined
      }
    }
    const callsExpect = (n: ts.Node): boolean => {
      let found = false
      walk(n, (c) => {
        if (!found && ts.isCallExpression(c) && /^(expect|assert)/.test(rootName(c.expression) ?? '')) found = true
      })
      return found
    }
    // Functions of this file that assert: passing a code to one counts.
    const asserting = new Set<string>()
    walk(sf, (n) => {
      if (ts.isFunctionDeclaration(n) && n.name && n.body && callsExpect(n.body)) asserting.add(n.name.text)
      if (
        ts.isVariableDeclaration(n) &&
        ts.isIdentifier(n.name) &&
        n.initializer &&
        (ts.isArrowFunction(n.initializer) || ts.isFunctionExpression(n.initializer)) &&
        callsExpect(n.initializer.body)
      )
        asserting.add(n.name.text)
    })
    // Builders of expected values (`const R = (code, pointer) => ({ code, pointer })`): a call to one is no input.
    const builders = new Set<string>()
    walk(sf, (n) => {
      if (
        !ts.isVariableDeclaration(n) ||
        !ts.isIdentifier(n.name) ||
        !n.initializer ||
        !ts.isArrowFunction(n.initializer)
      )
        return
      let body: ts.Node = n.initializer.body
      while (ts.isParenthesizedExpression(body)) body = body.expression
      let calls = false
      walk(body, (c) => {
        if (ts.isCallExpression(c) || ts.isNewExpression(c)) calls = true
      })
      if ((ts.isObjectLiteralExpression(body) || ts.isArrayLiteralExpression(body)) && !calls) builders.add(n.name.text)
    })
    const isEachTag = (e: ts.Expression) =>
      ts.isPropertyAccessExpression(e) && e.name.text === 'each' && /^(it|test|describe)$/.test(rootName(e) ?? '')
    const isEach = (c: ts.CallExpression) => isEachTag(c.expression)
    const asserts = (c: ts.CallExpression): boolean =>
      /^(expect|assert)/.test(rootName(c.expression) ?? '') ||
      isEach(c) ||
      (ts.isIdentifier(c.expression) && asserting.has(c.expression.text))
    /**
     * Walks up from a node: true when it is asserted (rules 1–4). `crossed` records that the way up entered the
     * arguments of a call that does not assert (`post({ code: 'X' })`) or a function: a value there is input. Only
     * the expected side of a matcher (`.toEqual(new Set(['X']))`) looks through such calls.
     */
    const isAsserted = (node: ts.Node, used: ReadonlySet<string>): boolean => {
      let crossed = false
      for (let n: ts.Node = node; n.parent; n = n.parent) {
        const p = n.parent
        if ((ts.isCallExpression(p) || ts.isNewExpression(p)) && p.arguments?.some((a) => a === n)) {
          if (ts.isCallExpression(p) && asserts(p)) {
            // expect(…), a helper and an it.each table are strict; a matcher chained on expect(…) is not.
            const strict = ts.isIdentifier(p.expression) || isEach(p)
            if (!strict || !crossed) return true
          }
          if (!(ts.isCallExpression(p) && ts.isIdentifier(p.expression) && builders.has(p.expression.text)))
            crossed = true
        } else if (ts.isArrowFunction(p) || ts.isFunctionExpression(p) || ts.isFunctionDeclaration(p)) crossed = true
        else if (ts.isTaggedTemplateExpression(p) && p.template === n && isEachTag(p.tag)) return !crossed
        else if (
          !crossed &&
          ts.isVariableDeclaration(p) &&
          p.initializer === n &&
          ts.isIdentifier(p.name) &&
          used.has(p.name.text)
        )
          return true
        else if (!crossed && ts.isForOfStatement(p) && p.expression === n && callsExpect(p.statement)) return true
      }
      return false
    }
    // Rule 4: variables used in an assertion, iterated by a loop that asserts, or mapped by a callback that does.
    const used = new Set<string>()
    walk(sf, (n) => {
      if (
        ts.isIdentifier(n) &&
        !(ts.isVariableDeclaration(n.parent) && n.parent.name === n) &&
        isAsserted(n, new Set())
      )
        used.add(n.text)
      if (ts.isForOfStatement(n) && callsExpect(n.statement))
        walk(n.expression, (c) => {
          if (ts.isIdentifier(c)) used.add(c.text)
        })
      if (
        ts.isCallExpression(n) &&
        ts.isPropertyAccessExpression(n.expression) &&
        ['forEach', 'map', 'every', 'some'].includes(n.expression.name.text) &&
        n.arguments.some((a) => callsExpect(a))
      ) {
        walk(n.expression.expression, (c) => {
          if (ts.isIdentifier(c)) used.add(c.text)
        })
      }
    })
    walk(sf, (n) => {
      if (isString(n) && CODE.test(n.text) && !out.has(n.text) && isAsserted(n, used)) out.set(n.text, at(n))
    })
    // Tagged templates hold codes as raw text.
    walk(sf, (n) => {
      if (ts.isTaggedTemplateExpression(n) && isAsserted(n.template, used)) {
        for (const m of n.template.getText(sf).matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g))
          if (!out.has(m[0])) out.set(m[0], at(n))
      }
    })
  }
  return out
}

describe('error codes', () => {
  const { codes, templates } = sourceCodes(
    files('src', (p) => p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.startsWith('src/simulator/')).map((p) =>
      source(p),
    ),
  )
  const asserted = assertedCodes(
    [
      ...files('src', (p) => p.endsWith('.test.ts')),
      ...files('test', (p) => p.endsWith('.ts') && p !== 'test/error-codes.test.ts'),
    ].map((p) => source(p)),
  )
  if (process.env.CODES_DEBUG) console.log(JSON.stringify({ codes: [...codes].sort(), asserted: [...asserted].sort() }))

  it('collects codes where they are made, and nothing else (the rules on a made-up source)', () => {
    const found = sourceCodes([
      source(
        'src/errors.ts',
        'export class KouanError {}\nexport const notFound = (code: string, what: string) => new KouanError(code, 404, what)',
      ),
      source(
        'src/modules/x/service.ts',
        `
        throw notFound('X_NOT_FOUND', 'x')
        throw new KouanError(side === 'TRADER' ? 'X_NOT_TRADER' : 'X_NOT_DECLARANT', 403, 'm')
        const bad = (code: string, message: string) => out.push({ code, message })
        bad('X_HELPER', 'm')
        problems.push({ code: 'X_ITEM', message: 'm', pointer: '/body/x' })
        reasons.push({ code: 'RULE_LANE', message: 'a selectivity reason' })
        appendAudit(tx, { action: 'X_AUDITED', entityType: 'x' })
        throw new KouanError(problems[0]?.code ?? 'X_FALLBACK', 400, 'm')
        const e = { code: \`X_\${kind}\`, message: 'm' }`,
      ),
    ])
    expect([...found.codes.keys()].sort()).toEqual([
      'X_FALLBACK',
      'X_HELPER',
      'X_ITEM',
      'X_NOT_DECLARANT',
      'X_NOT_FOUND',
      'X_NOT_TRADER',
    ])
    expect([...found.templates.keys()]).toEqual(['X_${kind}'])
  })

  it('counts a code in a test only where the test asserts it (the rules on a made-up test)', () => {
    const found = assertedCodes([
      source(
        'src/modules/x/x.test.ts',
        `
      function expectProblem(res, code) { expect(res.json().code).toBe(code) }
      const expected = [{ code: 'IN_VARIABLE' }]
      const fixture = [{ code: 'ONLY_INPUT_VARIABLE' }]
      const R = (code, pointer) => ({ code, pointer })
      const send = (code) => post({ code })
      const CASES = [{ mutate: (t) => { t.code = 'ONLY_INPUT_IN_TABLE' }, expected: [R('VIA_BUILDER', '/x')] }]
      it.each(CASES)('$name', (c) => { expect(verify(c.mutate)).toEqual(c.expected) })
      send('ONLY_INPUT_VIA_SENDER')
      it('x', async () => {
        const res = await post({ code: 'ONLY_INPUT' }, fixture)
        expect(res.json()).toMatchObject({ code: 'IN_EXPECT' })
        expect(res.json().code).toBe('IN_TOBE')
        await expect(call()).rejects.toMatchObject({ code: 'IN_REJECTS' })
        expectProblem(res, 'VIA_HELPER')
        for (const c of ['IN_LOOP']) expect(codes).toContain(c)
        expect(reasons).toEqual(expected)
      })
      it.each([['IN_TABLE', 1]])('%s', (code) => { expect(code).toBeTruthy() })`,
      ),
    ])
    expect([...found.keys()].sort()).toEqual([
      'IN_EXPECT',
      'IN_LOOP',
      'IN_REJECTS',
      'IN_TABLE',
      'IN_TOBE',
      'IN_VARIABLE',
      'VIA_BUILDER',
      'VIA_HELPER',
    ])
  })

  it('finds the codes of the server where they are made', () => {
    // A sample from each kind of place, so that a broken extraction cannot pass as "nothing uncovered".
    for (const c of [
      'DECLARATION_NOT_FOUND',
      'AUTH_CHALLENGE_EXPIRED',
      'CARD_BAD_PUBLIC_KEY',
      'REFERENCE_UNKNOWN_UNIT',
      'DUPLICATE_WAYBILL',
      'ANNUAL_LIMIT',
      'MALFORMED_JSON',
      'FORBIDDEN',
      'ROUTE_NOT_FOUND',
      'ARCHIVE_SELF_SERVICE_DISHONEST',
      'ENTERPRISE_USCC_CHECK',
      'FORMAT',
      'SIGNATURE',
    ]) {
      expect(codes.has(c), c).toBe(true)
    }
    expect(codes.has('DECLARATION_SUBMITTED')).toBe(false) // an audit action, not a code
    expect(codes.has('RULE_LANE')).toBe(false) // a selectivity reason
    expect(codes.size).toBeGreaterThan(100)
  })

  it('knows every code built at run time', () => {
    expect([...templates.keys()].filter((t) => !(t in DYNAMIC))).toEqual([])
  })

  it('has a test asserting every code', () => {
    const uncovered = [...codes].filter(([c]) => !asserted.has(c)).map(([c, where]) => `${c} (${where})`)
    expect(uncovered).toEqual([])
  })
})
