import { expect } from 'chai'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const APP = fileURLToPath(new URL('../examples/two-processes/app.mjs', import.meta.url))

/** A process of the example: its output so far, and its exit code once it ends. */
function run (args: string[], env: Record<string, string>): { child: ChildProcess, out: () => string, exited: Promise<number | null> } {
  const child = spawn(process.execPath, [APP, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { out += b.toString() })
  const exited = new Promise<number | null>(resolve => child.once('close', code => { resolve(code) }))
  return { child, out: () => out, exited }
}

async function until (what: string, ms: number, check: () => boolean): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

describe('examples/two-processes', function () {
  this.timeout(60_000)
  const children: ChildProcess[] = []
  let dir: string

  before(() => { dir = mkdtempSync(join(tmpdir(), 'simplepool-example-')) })
  after(() => {
    for (const c of children) c.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('two processes share the rooms; the one that talked hands its rooms over on stop, the last saves them all', async () => {
    const env = { ROOMS_DIR: dir }
    const first = run([], env)
    children.push(first.child)
    await until('the first node up', 20_000, () => / up at (\S+)/.test(first.out()))
    const address = (/ up at (\S+)/.exec(first.out()) as RegExpExecArray)[1]
    const second = run(['--bootstrap', address, '--talk'], env)
    children.push(second.child)
    expect(await second.exited, second.out()).to.equal(0)
    const [, here, there] = /talked to 20 rooms: (\d+) live in this process, (\d+) in the other/.exec(second.out()) ?? []
    // the ring spread them over both processes
    expect(Number(here), second.out()).to.be.above(0)
    expect(Number(there), second.out()).to.be.above(0)
    first.child.kill('SIGTERM')
    expect(await first.exited, first.out()).to.equal(0)
    expect(first.out()).to.include('stopped: the rooms were saved')
    // every room saved once, by the last node, with what the second process said in it
    const saved = readdirSync(join(dir, 'chat-room'))
    expect(saved).to.have.length(20)
    for (const f of saved) {
      const { state, epoch } = JSON.parse(readFileSync(join(dir, 'chat-room', f), 'utf8'))
      expect(epoch, f).to.be.a('number')
      expect(state.members, f).to.deep.equal([`user-${String(second.child.pid)}`])
      expect(state.said, f).to.deep.equal([`user-${String(second.child.pid)}: hello`])
    }
  })

  it("the example's store refuses a save from an older activation than the one it holds", async () => {
    // @ts-expect-error: plain JavaScript, no types
    const { FileStore } = await import('../examples/two-processes/file-store.mjs')
    const store = new FileStore(join(dir, 'fenced'))
    await store.save('chat-room', 'r', { n: 2 }, 20)
    let err: Error | undefined
    await store.save('chat-room', 'r', { n: 1 }, 10).catch((e: Error) => { err = e })
    expect(err?.name).to.equal('StaleWriteError')
    expect(await store.load('chat-room', 'r')).to.deep.equal({ n: 2 })
    await store.save('chat-room', 'r', { n: 3 }, 30)
    expect(await store.load('chat-room', 'r')).to.deep.equal({ n: 3 })
  })
})
