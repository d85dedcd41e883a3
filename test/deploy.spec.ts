import { expect } from 'chai'
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrivateNetwork } from '@simplepool/testing'

const unavailable = PrivateNetwork.unavailable()
const CLI = fileURLToPath(new URL('../packages/simplepool/dist/cli.js', import.meta.url))
const POOLS = fileURLToPath(new URL('./fixtures/deploy-pools.mjs', import.meta.url))
const DRIVER = fileURLToPath(new URL('./fixtures/deploy-driver.mjs', import.meta.url))
const PORT = 4001
const ADMIN = 9400
const TOKEN = 'deploy-admin-token'
const IDS = 30
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

interface Driven { acked: Record<string, number>, doubtful: Record<string, number>, values: Record<string, number>, errors: Record<string, number> }

/** A `simplepool start` process in a namespace: its output, and its exit. */
interface StartedNode { child: ChildProcess, out: () => string, exited: Promise<number | null> }

const suite = unavailable === undefined ? describe : describe.skip
suite(unavailable === undefined ? 'a deployment on three machines (network namespaces), as an operator runs it' : `a deployment on three machines: skipped because ${unavailable}`, function () {
  this.timeout(120_000)
  let net: PrivateNetwork
  let dir: string
  const key = randomBytes(32).toString('hex')
  const nodes: StartedNode[] = []

  /** Runs `args` with node in namespace `k`. */
  const inNs = (k: number, args: string[], env: Record<string, string> = {}): ChildProcess =>
    spawn('ip', ['netns', 'exec', net.namespaces[k], process.execPath, ...args], { env: { ...process.env, ROOMS_DIR: join(dir, 'store'), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })

  /** The driver's one JSON line, run in namespace `k` against that node's admin API. */
  const drive = async (k: number, ms: number, op: 'inc' | 'get'): Promise<Driven> => {
    const child = inNs(k, [DRIVER, String(ADMIN), TOKEN, String(IDS), String(ms), op])
    let out = ''
    let err = ''
    child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
    child.stderr?.on('data', (b: Buffer) => { err += b.toString() })
    const code = await new Promise(resolve => child.once('close', resolve))
    if (code !== 0) throw new Error(`driver in node ${k} exited ${String(code)}: ${err}`)
    return JSON.parse(out.trim()) as Driven
  }

  /** `GET path` on node `k`'s admin API, from inside its namespace: the status. */
  const probe = (k: number, path: string): number => {
    const r = spawnSync('ip', ['netns', 'exec', net.namespaces[k], process.execPath, '-e',
      `fetch('http://127.0.0.1:${ADMIN}${path}', { headers: { authorization: 'Bearer ${TOKEN}' } }).then(r => console.log(r.status), () => console.log(0))`], { encoding: 'utf8' })
    return Number(r.stdout.trim())
  }

  const start = (k: number, bootstrap: string[]): StartedNode => {
    const args = [CLI, 'start', '--pools', POOLS, '-o', 'json', '--listen', `/ip4/${net.address(k)}/tcp/${PORT}`,
      '--key-file', join(dir, `node-${k}.key`), '--cluster-key', key, '--admin-port', String(ADMIN), '--token', TOKEN,
      ...bootstrap.flatMap(b => ['--bootstrap', b])]
    const child = inNs(k, args)
    let out = ''
    child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
    child.stderr?.on('data', (b: Buffer) => { out += b.toString() })
    const node = { child, out: () => out, exited: new Promise<number | null>(resolve => child.once('close', resolve)) }
    nodes.push(node)
    return node
  }

  before(() => {
    net = PrivateNetwork.create(3)
    dir = mkdtempSync(join(tmpdir(), 'simplepool-deploy-'))
  })

  after(async () => {
    try {
      for (const n of nodes) n.child.kill('SIGKILL')
      await Promise.all(nodes.map(async n => await n.exited))
    } finally {
      net?.destroy()
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    }
  })

  it('forms over the machines\' addresses with a cluster key and key files; a node cut off stops serving, the others serve its counters, and every acknowledged increment is kept', async () => {
    // the first founds the cluster; the others name it by address alone (no /p2p/<id>)
    const first = start(0, [])
    const peer = `/ip4/${net.address(0)}/tcp/${PORT}`
    const others = [start(1, [peer]), start(2, [peer])]
    for (const [k, n] of [first, ...others].entries()) {
      const deadline = Date.now() + 30_000
      while (!n.out().includes('"node"') && Date.now() < deadline) await sleep(100)
      expect(n.out(), `node ${k}`).to.include('"node"')
      expect(statSync(join(dir, `node-${k}.key`)).mode & 0o777).to.equal(0o600)
    }
    const deadline = Date.now() + 30_000
    while (probe(0, '/readyz') !== 200 && Date.now() < deadline) await sleep(250)
    expect(probe(0, '/readyz'), 'the cluster formed: one ring agreed by all three').to.equal(200)

    // traffic through node 0 while node 2 is cut off from both others for 6 s, then healed
    const traffic = drive(0, 14_000, 'inc')
    await sleep(3_000)
    net.split([[2]])
    await sleep(3_000)
    // the cut-off node holds no majority: it serves nothing, and says so at once
    const isolated = spawnSync('ip', ['netns', 'exec', net.namespaces[2], process.execPath, '-e',
      `Promise.all(Array.from({ length: ${IDS} }, (_, i) => fetch('http://127.0.0.1:${ADMIN}/v1/workers/counter/c-' + i + '/call', { method: 'POST', headers: { authorization: 'Bearer ${TOKEN}', 'content-type': 'application/json' }, body: JSON.stringify({ msg: 'get', timeoutMs: 1000 }) }).then(r => r.json()))).then(a => console.log(JSON.stringify(a.map(b => b.error?.name ?? 'answered'))))`], { encoding: 'utf8' })
    const seen = JSON.parse(isolated.stdout.trim()) as string[]
    expect(seen.filter(n => n === 'answered'), `node 2 cut off answered: ${seen.join(', ')}`).to.deep.equal([])
    expect(seen.filter(n => n === 'NodeIsolatedError').length, seen.join(', ')).to.be.above(0)
    await sleep(3_000)
    net.heal()
    const driven = await traffic
    await sleep(2_000)

    // every counter holds its acknowledged increments, and at most the doubtful ones more
    const after = await drive(1, 0, 'get')
    expect(Object.keys(after.values), JSON.stringify(after.errors)).to.have.length(IDS)
    for (let i = 0; i < IDS; i++) {
      const id = `c-${i}`
      expect(after.values[id], `${id}: acked ${driven.acked[id]}, doubtful ${driven.doubtful[id]}`).to.be.within(driven.acked[id], driven.acked[id] + driven.doubtful[id])
    }
    expect(Object.values(driven.acked).reduce((a, b) => a + b, 0)).to.be.above(IDS)

    // the operators' stop: each hands its counters on and exits 0
    for (const n of [...others, first]) {
      n.child.kill('SIGTERM')
      expect(await n.exited, n.out()).to.equal(0)
    }
    expect(existsSync(join(dir, 'node-0.key'))).to.equal(true)
  })
})
