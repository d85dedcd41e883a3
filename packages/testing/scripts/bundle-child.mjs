// Bundles the child entry into one file: loading the libp2p stack module by module is
// most of a node's start time, and one bundle loads several times faster.
import { build } from 'esbuild'

await build({
  entryPoints: ['dist/child.js'],
  outfile: 'dist/child.bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // native, or loaded only by the pools that use a database: from node_modules as they are
  external: ['better-sqlite3', 'pg'],
  // cbor-x loads its native add-on with require(): give the ESM bundle one
  banner: { js: "import { createRequire as __spCreateRequire } from 'node:module'; const require = __spCreateRequire(import.meta.url);" }
})
