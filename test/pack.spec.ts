import { expect } from 'chai'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The packages a user installs; the simulator and the test harness are private. */
const PUBLISHED = ['@simplepool/core', '@simplepool/ring', '@simplepool/mesh', '@simplepool/transport', '@simplepool/runtime', '@simplepool/store', 'simplepool']

/** A user's app, outside the workspace: two nodes in one process, a call across them, then a stop. */
const APP = `import { createNode, definePool } from 'simplepool'
import { MemoryStore } from '@simplepool/store'
const counters = definePool({
  name: 'counter',
  init: () => ({ n: 0 }),
  handle: (state, msg) => msg === 'inc' ? ++state.n : state.n
})
const store = new MemoryStore()
const saved = definePool({ ...counters, name: 'saved', store, writeThrough: true })
const a = await createNode({ pools: [counters, saved] })
const b = await createNode({ pools: [counters, saved], bootstrap: a.addresses })
let total = 0
for (let i = 0; i < 20; i++) total += await b.ref('counter', 'c-' + i).call('inc')
const where = new Set(await Promise.all(Array.from({ length: 20 }, async (_, i) => (await a.where('counter', 'c-' + i))?.node)))
await b.ref('saved', 's').call('inc')
const inStore = await store.load('saved', 's', { epoch: Number.MAX_SAFE_INTEGER })
await b.stop()
await a.stop()
console.log(JSON.stringify({ total, nodes: where.size, inStore }))
`

function npm (args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } })
}

describe('the packages as a user installs them (npm pack, then npm install in a fresh app)', function () {
  this.timeout(240_000)
  let dir: string
  let app: string
  const tarballs = new Map<string, string>()

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'simplepool-pack-'))
    for (const name of PUBLISHED) {
      const out = JSON.parse(npm(['pack', '--json', '--pack-destination', dir, '-w', name], ROOT)) as Array<{ filename: string }>
      tarballs.set(name, join(dir, out[0].filename))
    }
    app = join(dir, 'app')
    mkdirSync(app)
    const deps = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]))
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'an-app', private: true, type: 'module', dependencies: deps }, null, 2))
    writeFileSync(join(app, 'app.mjs'), APP)
    // the registry's packages come from the cache `npm ci` filled when it can
    npm(['install', '--prefer-offline', '--no-package-lock'], app)
  })

  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('each package ships its README, LICENSE, code, types, and the sources its maps name', () => {
    for (const name of PUBLISHED) {
      const home = join(app, 'node_modules', name)
      for (const f of ['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts']) expect(existsSync(join(home, f)), `${name}: ${f}`).to.equal(true)
      const pkg = JSON.parse(readFileSync(join(home, 'package.json'), 'utf8'))
      for (const k of ['repository', 'homepage', 'bugs', 'engines', 'license']) expect(pkg[k], `${name}: ${k}`).to.not.equal(undefined)
      expect(pkg.version, name).to.match(/^\d+\.\d+\.\d+/)
      for (const map of readdirSync(join(home, 'dist')).filter(f => f.endsWith('.js.map'))) {
        const sources = JSON.parse(readFileSync(join(home, 'dist', map), 'utf8')).sources as string[]
        for (const s of sources) expect(existsSync(join(home, 'dist', s)), `${name}: ${map} names ${s}`).to.equal(true)
      }
    }
  })

  it('runs a two-node app, loads by require() too, and answers npx simplepool --help', () => {
    const run = spawnSync(process.execPath, ['app.mjs'], { cwd: app, encoding: 'utf8', timeout: 60_000 })
    expect(run.status, run.stderr).to.equal(0)
    // every call answered once, on a worker of its own, and the two nodes shared them; the
    // store's package wrote a pool's increment through
    expect(JSON.parse(run.stdout.trim())).to.deep.equal({ total: 20, nodes: 2, inStore: { n: 1 } })
    const required = spawnSync(process.execPath, ['-e', "console.log(typeof require('simplepool').createNode)"], { cwd: app, encoding: 'utf8' })
    expect(required.stdout.trim(), required.stderr).to.equal('function')
    const help = spawnSync('npx', ['--no-install', 'simplepool', '--help'], { cwd: app, encoding: 'utf8', timeout: 60_000 })
    expect(help.status, help.stderr).to.equal(0)
    expect(help.stdout).to.match(/simplepool/)
    expect(help.stdout).to.match(/start/)
  })
})
