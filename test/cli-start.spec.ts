import { expect } from 'chai'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createNode } from 'simplepool'
import type { NodeInit, Pool, SimplePoolNode } from 'simplepool'
import { ask } from './admin-client.js'

const CLI = fileURLToPath(new URL('../packages/simplepool/dist/cli.js', import.meta.url))
const POOLS = fileURLToPath(new URL('./fixtures/cli-pools.mjs', import.meta.url))

/** What `simplepool start -o json` prints once the node is up. */
interface Ready { node: string, addresses: string[], admin: string | null, pools: string[] }

/** A `simplepool` process: its output so far and its exit. */
interface Run {
  child: ChildProcess
  out: string
  err: string
  code?: number | null
  exited: Promise<number | null>
}

const runs = new Set<Run>()
const nodes = new Set<SimplePoolNode>()
/**
 * Whether a test is running. A test body that timed out goes on running after its hooks:
 * what it starts then is stopped at once, or mocha would wait for it forever.
 */
let open = false

/**
 * Runs the command line. The IPC channel is a tripwire: a node process started with one
 * stops when its parent goes away, so even a test run killed midway leaves none behind.
 */
function cli (...args: string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  const run: Run = { child, out: '', err: '', exited: Promise.resolve(null) }
  child.stdout?.on('data', (b: Buffer) => { run.out += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { run.err += b.toString() })
  run.exited = new Promise((resolve) => {
    // 'close', not 'exit': the output is all read by then
    child.once('close', (code, signal) => {
      runs.delete(run)
      run.code = code ?? (signal !== null ? -1 : null)
      resolve(run.code)
    })
  })
  runs.add(run)
  if (!open) child.kill('SIGKILL')
  return run
}

/** A node in this process, stopped after the test. */
async function inProcessNode (init: NodeInit): Promise<SimplePoolNode> {
  const node = await createNode(init)
  nodes.add(node)
  if (!open) await cleanUp()
  return node
}

/** Stops the nodes in this process, kills the processes still running, and waits for them. */
async function cleanUp (): Promise<void> {
  const left = [...runs]
  for (const r of left) r.child.kill('SIGKILL')
  const stopping = [...nodes]
  nodes.clear()
  await Promise.all([...left.map(async r => await r.exited), ...stopping.map(async n => { await n.stop({ drainTimeoutMs: 0 }) })])
}

async function until (what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** The JSON ready line of a `start -o json`, once printed. */
async function ready (run: Run, ms = 20_000): Promise<Ready> {
  await until('the ready line', ms, () => run.out.includes('\n') || run.code !== undefined)
  if (!run.out.includes('\n')) throw new Error(`simplepool start exited (${String(run.code)}) before it was up: ${run.err}`)
  return JSON.parse(run.out.split('\n')[0]) as Ready
}

/** The exit code, within `ms`. */
async function exitWithin (run: Run, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>(resolve => { timer = setTimeout(() => { resolve('late') }, ms) })
  const code = await Promise.race([run.exited, late])
  clearTimeout(timer)
  if (code === 'late') throw new Error(`still running after ${ms} ms; stderr: ${run.err}`)
  return code
}

describe('the simplepool command line: start and demo', function () {
  this.timeout(30_000)
  beforeEach(() => { open = true })
  afterEach(async () => {
    open = false
    await cleanUp()
  })

  describe('simplepool start', () => {
    describe('two node processes and a node in the test', () => {
      it('runs the pools a module exports; SIGTERM hands every worker over with its state, exits 0 and leaves the cluster', async () => {
        const a = cli('start', '--pools', POOLS, '-o', 'json', '--admin-port', '0', '--target', 'ledger=100')
        const upA = await ready(a)
        expect(upA.pools).to.deep.equal(['ledger', 'note'])
        expect(upA.addresses[0]).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
        // port 0 took a free port: the line carries the real one
        expect(upA.admin).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
        const adminPort = Number(new URL(upA.admin as string).port)
        expect(adminPort).to.be.above(0)
        const b = cli('start', '--pools', POOLS, '--bootstrap', upA.addresses[0], '--target', 'ledger=100', '--target', 'note=5')
        await until('b up', 20_000, () => b.out.includes('\n') || b.code !== undefined)
        expect(b.out).to.match(/^simplepool: node \S+ up, pools ledger, note; listening on \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\S+; no admin API\n$/)
        const peerB = /node (\S+) up/.exec(b.out)?.[1] as string

        // the test's node runs the same module with target 0: it asks and holds nothing
        const { ledger } = await import(POOLS) as { ledger: Pool<any, any, any> }
        const self = await inProcessNode({ pools: [ledger], targets: { ledger: 0 }, bootstrap: [upA.addresses[0]] })
        await until('three members up', 10_000, () => self.members().filter(m => m.status === 'up').length === 3)
        const ids = Array.from({ length: 200 }, (_, i) => `l-${i}`)
        const entries = (i: number): number[] => [i + 1, 1000, 7]
        await Promise.all(ids.map(async (id, i) => { for (const n of entries(i)) await self.ref('ledger', id).call({ type: 'add', n }) }))
        const before = await Promise.all(ids.map(async id => (await self.where('ledger', id))?.node))
        const onB = ids.filter((_, i) => before[i] === peerB)
        expect(onB.length, 'workers on b').to.be.within(40, 160)
        expect(before.filter(p => p === upA.node)).to.have.length(200 - onB.length)

        b.child.kill('SIGTERM')
        expect(await exitWithin(b, 15_000), b.err).to.equal(0)
        expect(b.err).to.include('stopping: handing workers to the other nodes...')
        expect(b.err).to.match(new RegExp(`it held ${onB.length} workers`))

        // every worker is on a, with all its entries: none was started afresh
        const after = await Promise.all(ids.map(async id => await self.ref('ledger', id).call({ type: 'get' }, { spawn: false })))
        after.forEach((s: any, i) => { expect(s, ids[i]).to.deep.equal({ entries: entries(i), total: i + 1008 }) })
        for (const id of onB) expect((await self.where('ledger', id))?.node, id).to.equal(upA.node)
        expect(await self.count('ledger')).to.equal(200)
        // a lists b as gone, not up
        await until('a no longer lists b as up', 10_000, async () => {
          const listed = (await ask(adminPort, 'GET', '/v1/nodes')).body as Array<{ node: string, status: string, liveness: string }>
          return !listed.some(n => n.node === peerB && n.status === 'up' && n.liveness !== 'down')
        })

        // the last node stops on SIGINT too, with nowhere to hand its workers
        await self.stop({ drainTimeoutMs: 0 })
        a.child.kill('SIGINT')
        expect(await exitWithin(a, 15_000), a.err).to.equal(0)
      })
    })

    it('keeps its peer id across restarts with --key-file, made with mode 0600 when missing, and announces what --announce says', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'simplepool-key-'))
      try {
        const keyFile = join(dir, 'node.key')
        const announce = '/dns4/node-1.example/tcp/4001'
        // an address announced off loopback needs the cluster key
        const first = cli('start', '--pools', POOLS, '-o', 'json', '--key-file', keyFile, '--announce', announce, '--cluster-key', 'c3'.repeat(32))
        const up = await ready(first)
        expect(first.err).to.include(`made a new identity in ${keyFile}`)
        expect(statSync(keyFile).mode & 0o777).to.equal(0o600)
        expect(up.addresses).to.deep.equal([`${announce}/p2p/${up.node}`])
        first.child.kill('SIGTERM')
        expect(await exitWithin(first, 15_000), first.err).to.equal(0)
        // the id to name the node by in access rules, and rules that let it host what it runs
        const id = cli('id', '--key-file', keyFile)
        expect(await exitWithin(id, 15_000)).to.equal(0)
        expect(id.out).to.equal(`${up.node}\n`)
        const rules = join(dir, 'access.json')
        writeFileSync(rules, JSON.stringify({ roles: { hosts: [up.node] }, pools: { '*': { host: ['hosts'] } } }))
        const again = cli('start', '--pools', POOLS, '-o', 'json', '--key-file', keyFile, '--access', rules)
        expect((await ready(again)).node).to.equal(up.node)
        expect(again.err).not.to.include('made a new identity')
        again.child.kill('SIGTERM')
        expect(await exitWithin(again, 15_000), again.err).to.equal(0)
        // a file that holds no key is never overwritten: the start fails by name
        writeFileSync(keyFile, 'not a key')
        const bad = cli('start', '--pools', POOLS, '--key-file', keyFile)
        expect(await exitWithin(bad, 15_000)).to.equal(64)
        expect(bad.err).to.match(/key file .*node\.key holds no libp2p private key/)
        expect(bad.out).to.equal('')
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })

    describe('bad input', () => {
      let dir: string
      before(() => {
        dir = mkdtempSync(join(tmpdir(), 'simplepool-cli-'))
        writeFileSync(join(dir, 'no-pools.mjs'), 'export const answer = 42\n')
        writeFileSync(join(dir, 'throws.mjs'), "throw new Error('boom at import')\n")
        writeFileSync(join(dir, 'not-json.json'), '{ roles: ')
        writeFileSync(join(dir, 'typo.json'), JSON.stringify({ roles: { hosts: [] }, pools: { ledger: { host: ['host'] } } }))
        writeFileSync(join(dir, 'not-a-host.json'), JSON.stringify({ roles: { edge: [] }, pools: { ledger: { call: ['edge'] } } }))
      })
      after(() => { rmSync(dir, { recursive: true, force: true }) })

      const cases: Array<[string, () => string[], number, RegExp]> = [
        ['no --pools', () => [], 64, /--pools is required/],
        ['a missing module', () => ['--pools', join(dir, 'missing.mjs')], 64, /--pools .*missing\.mjs: no such file/],
        ['a module without pools', () => ['--pools', join(dir, 'no-pools.mjs')], 64, /no-pools\.mjs exports no pools/],
        ['a module that throws', () => ['--pools', join(dir, 'throws.mjs')], 2, /cannot load the pools module .*throws\.mjs: Error: boom at import/],
        ['--target nope', () => ['--pools', POOLS, '--target', 'nope'], 64, /--target takes POOL=N .*got nope/],
        ['--target of a pool the module lacks', () => ['--pools', POOLS, '--target', 'rooms=5'], 64, /--target rooms=5: the module has no pool rooms \(its pools: ledger, note\)/],
        ['--target with a negative number', () => ['--pools', POOLS, '--target', 'ledger=-1'], 64, /--target takes POOL=N/],
        ['a bad --admin-port', () => ['--pools', POOLS, '--admin-port', '70000'], 64, /--admin-port must be an integer in \[0, 65535\], got 70000/],
        ['an unknown option', () => ['--pools', POOLS, '--frobnicate'], 64, /Unknown option '--frobnicate'/],
        ['a listen address off loopback without a cluster key', () => ['--pools', POOLS, '--listen', '/ip4/0.0.0.0/tcp/0'], 64, /address \/ip4\/0\.0\.0\.0\/tcp\/0 is not loopback and the node has no clusterKey/],
        ['an admin API off loopback without a token', () => ['--pools', POOLS, '--admin-port', '0', '--admin-host', '0.0.0.0'], 64, /admin\.host 0\.0\.0\.0 is not loopback: the admin API there needs admin\.token/],
        ['--admin-open-reads alone', () => ['--pools', POOLS, '--admin-open-reads'], 64, /--admin-open-reads needs --admin-port/],
        ['--access of a missing file', () => ['--pools', POOLS, '--access', join(dir, 'missing.json')], 64, /--access .*missing\.json: ENOENT/],
        ['--access of a file that is not JSON', () => ['--pools', POOLS, '--access', join(dir, 'not-json.json')], 64, /--access .*not-json\.json is not JSON/],
        ['--access granting a role it does not define', () => ['--pools', POOLS, '--access', join(dir, 'typo.json')], 64, /access\.pools\.ledger\.host grants role "host", which access\.roles does not define/],
        ['--access not letting the node host its pools', () => ['--pools', POOLS, '--access', join(dir, 'not-a-host.json')], 64, /runs pool ledger, but its access rules do not let it host it/]
      ]

      it('answers each with exit code 64 (2 when the module fails to load) and a message naming the problem, no stack', async () => {
        const results = await Promise.all(cases.map(async ([, args]) => {
          const r = cli('start', ...args())
          await exitWithin(r, 15_000)
          return r
        }))
        results.forEach((r, i) => {
          const [what, , code, message] = cases[i]
          expect(r.code, `${what}: ${r.err}`).to.equal(code)
          expect(r.err, what).to.match(message)
          expect(r.err, what).not.to.match(/\n\s+at /)
          expect(r.out, what).to.equal('')
        })
        const help = cli('start', '--help')
        expect(await exitWithin(help, 15_000)).to.equal(0)
        expect(help.out).to.match(/^simplepool start --pools <module>/)
      })
    })
  })

  describe('simplepool demo', () => {
    it('runs a short demo, exits 0 and leaves no node process behind', async function () {
      // two processes that each settle their membership, activate, run and stop: generous on a busy machine
      this.timeout(75_000)
      const demo = cli('demo', '--nodes', '2', '--workers', '400', '--seconds', '1', '--rate', '200', '--admin-port', '0')
      const code = await exitWithin(demo, 60_000)
      const pids = [...demo.out.matchAll(/^ {2}node-\d+ {2}pid (\d+)/gm)].map(m => Number(m[1]))
      try {
        expect(code, demo.out + demo.err).to.equal(0)
        expect(pids).to.have.length(2)
        expect(demo.out).to.match(/^400 workers live after/m)
        expect(demo.out).to.match(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard\/$/m)
        expect(demo.out).to.match(/^2 of 2 node processes stopped cleanly/m)
        for (const pid of pids) expect(alive(pid), `pid ${pid}`).to.equal(false)
      } finally {
        for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
      }
    })
  })
})

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
