// The structure of packages/*/src, checked with the TypeScript compiler API on every
// `npm test` (`npm run check`): no import cycle between files, no import of a package that
// the table below does not allow, no file over MAX_LINES lines. Exits 1 listing each
// problem. The violations known when the check came in are listed in
// check-imports.allow.json beside this script; every entry there is to be removed, none
// added: the check also fails on an entry that no longer matches anything.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

// The @simplepool packages each package (by its folder under packages/) may import; a
// package may always import itself. 'testing' is the harness and may import anything;
// a package missing from this table may import nothing until it is added here.
const ALLOWED: Record<string, readonly string[] | '*'> = {
  core: [],
  ring: ['core'],
  mesh: ['core'],
  transport: ['core'],
  runtime: ['core', 'ring'],
  store: ['core'],
  simplepool: ['core', 'ring', 'mesh', 'transport', 'runtime'],
  sim: ['core', 'ring', 'mesh', 'transport', 'runtime', 'simplepool'],
  testing: '*'
}

/** The most lines a source file of a package (packages/<name>/src) may have. */
const MAX_LINES = 500

/** Past this many import cycles the listing stops (there is plenty to untangle already). */
const MAX_CYCLES = 1000

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const ALLOW_FILE = join(ROOT, 'scripts', 'check-imports.allow.json')

interface AllowList {
  cycles: string[]
  imports: string[]
  longFiles: string[]
}

interface Edge {
  to: string
  dynamic: boolean
}

/** A path relative to the repository root, with forward slashes (how files are named in reports and in the allow-list). */
function rel (path: string): string {
  return relative(ROOT, path).split(sep).join('/')
}

function tsFiles (dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...tsFiles(path))
    else if (entry.isFile() && entry.name.endsWith('.ts')) out.push(path)
  }
  return out.sort()
}

/** Every package folder under packages/ with a src/, and the npm name in its package.json. */
function packages (): Map<string, string> {
  const byName = new Map<string, string>()
  const dir = join(ROOT, 'packages')
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const manifest = join(dir, entry.name, 'package.json')
    if (!entry.isDirectory() || !existsSync(join(dir, entry.name, 'src')) || !existsSync(manifest)) continue
    const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }
    byName.set(name, entry.name)
  }
  return byName
}

/** The module specifiers a file names: import and export declarations (type-only ones too), `import x = require()`, `import()` and `import('…')` types. */
function specifiers (source: ts.SourceFile): Array<{ text: string, dynamic: boolean }> {
  const out: Array<{ text: string, dynamic: boolean }> = []
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier != null && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ text: node.moduleSpecifier.text, dynamic: false })
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      out.push({ text: node.moduleReference.expression.text, dynamic: false })
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])) {
      out.push({ text: node.arguments[0].text, dynamic: true })
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push({ text: node.argument.literal.text, dynamic: false })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

const resolutionOptions: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext }

/** The file a relative specifier names, as the compiler resolves it (`./x.js` is `./x.ts`), or undefined. */
function resolveRelative (specifier: string, from: string): string | undefined {
  const { resolvedModule } = ts.resolveModuleName(specifier, from, resolutionOptions, ts.sys, undefined, undefined, ts.ModuleKind.ESNext)
  return resolvedModule == null ? undefined : resolve(resolvedModule.resolvedFileName)
}

/** The package folder a path lies in (packages/<folder>/…), or undefined. */
function packageOf (path: string): string | undefined {
  const parts = rel(path).split('/')
  return parts[0] === 'packages' && parts.length > 2 ? parts[1] : undefined
}

function allows (from: string, to: string): boolean {
  if (from === to) return true
  const allowed = ALLOWED[from]
  return allowed === '*' || (allowed?.includes(to) ?? false)
}

/**
 * Every elementary cycle of the graph, each once, as its chain of files starting at its
 * smallest file (Johnson's algorithm: for each start file in order, the cycles through it
 * among the files after it).
 */
function cycles (graph: Map<string, Edge[]>): string[][] {
  const nodes = [...graph.keys()].sort()
  const index = new Map(nodes.map((n, i) => [n, i]))
  const found: string[][] = []
  for (let s = 0; s < nodes.length; s++) {
    const start = nodes[s]
    const blocked = new Set<string>()
    const blockers = new Map<string, Set<string>>()
    const stack: string[] = []
    const next = (n: string): string[] => [...new Set((graph.get(n) ?? []).map(e => e.to))].filter(m => (index.get(m) ?? -1) >= s)
    const unblock = (n: string): void => {
      blocked.delete(n)
      const waiting = blockers.get(n)
      blockers.delete(n)
      for (const w of waiting ?? []) if (blocked.has(w)) unblock(w)
    }
    const circuit = (n: string): boolean => {
      let closed = false
      stack.push(n)
      blocked.add(n)
      for (const m of next(n)) {
        if (found.length >= MAX_CYCLES) break
        if (m === start) {
          found.push([...stack, start])
          closed = true
        } else if (!blocked.has(m) && circuit(m)) {
          closed = true
        }
      }
      if (closed) {
        unblock(n)
      } else {
        for (const m of next(n)) {
          const waiting = blockers.get(m) ?? new Set<string>()
          waiting.add(n)
          blockers.set(m, waiting)
        }
      }
      stack.pop()
      return closed
    }
    circuit(start)
  }
  return found
}

function readAllowList (): AllowList {
  const empty: AllowList = { cycles: [], imports: [], longFiles: [] }
  if (!existsSync(ALLOW_FILE)) return empty
  return { ...empty, ...JSON.parse(readFileSync(ALLOW_FILE, 'utf8')) as Partial<AllowList> }
}

function main (): number {
  const byName = packages()
  const folders = [...byName.values()].sort()
  const files = folders.flatMap(folder => tsFiles(join(ROOT, 'packages', folder, 'src')))
  const fileSet = new Set(files)

  const graph = new Map<string, Edge[]>()
  const problems: string[] = []
  const cycleFound: string[] = []
  const importsFound: string[] = []
  const longFound: string[] = []

  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
    if (lines > MAX_LINES) longFound.push(`${rel(file)} (${lines} lines)`)

    const from = packageOf(file) as string
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
    const edges: Edge[] = []
    for (const { text: specifier, dynamic } of specifiers(source)) {
      let to: string | undefined
      if (specifier.startsWith('.')) {
        const target = resolveRelative(specifier, file)
        if (target == null) {
          problems.push(`${rel(file)}: cannot resolve '${specifier}'`)
          continue
        }
        if (fileSet.has(target)) edges.push({ to: target, dynamic })
        to = packageOf(target)
      } else {
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]
        to = byName.get(name)
      }
      if (to != null && !allows(from, to)) importsFound.push(`${rel(file)} -> ${specifier} (${from} may not import ${to})`)
    }
    graph.set(file, edges)
  }

  const chains = cycles(graph)
  if (chains.length >= MAX_CYCLES) problems.push(`import cycles: ${MAX_CYCLES} listed, and the listing stopped there`)
  for (const chain of chains) {
    cycleFound.push(chain.map((file, i) => {
      const dynamic = i + 1 < chain.length && (graph.get(file) ?? []).every(e => e.to !== chain[i + 1] || e.dynamic)
      return rel(file) + (dynamic ? ' (import())' : '')
    }).join(' -> '))
  }

  for (const folder of folders) {
    if (!(folder in ALLOWED)) problems.push(`packages/${folder}: not in the table of allowed imports in scripts/check-imports.ts`)
  }

  // Known violations pass; an allow-list entry that matches nothing fails, so the list only shrinks.
  const allow = readAllowList()
  const longName = (entry: string): string => entry.replace(/ \(\d+ lines\)$/, '')
  const sections: Array<[string, string[], string[], (entry: string) => string]> = [
    ['import cycle', cycleFound, allow.cycles, e => e],
    ['import not allowed', importsFound, allow.imports, e => e],
    [`file over ${MAX_LINES} lines`, longFound, allow.longFiles, longName]
  ]
  for (const [what, found, allowed, key] of sections) {
    const keys = new Set(found.map(key))
    for (const entry of found) if (!allowed.includes(key(entry))) problems.push(`${what}: ${entry}`)
    for (const entry of allowed) if (!keys.has(entry)) problems.push(`allow-list entry no longer found, remove it from ${rel(ALLOW_FILE)}: ${entry}`)
  }

  const allowed = allow.cycles.length + allow.imports.length + allow.longFiles.length
  if (problems.length > 0) {
    console.error(`check-imports: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${files.length} files of packages/*/src`)
    for (const p of problems) console.error(`  ${p}`)
    return 1
  }
  console.log(`check-imports: ${files.length} files of packages/*/src, no new import cycle, disallowed package import or file over ${MAX_LINES} lines (${allowed} known, in ${rel(ALLOW_FILE)})`)
  return 0
}

process.exitCode = main()
