import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createNode, definePool, silentLogger } from 'simplepool'
import type { SimplePoolNode, WorkerEventDetail } from 'simplepool'

const rooms = definePool<{ members: string[], said: number }, { type: 'join', user: string } | { type: 'say', text: string } | { type: 'get' }, unknown>({
  name: 'chat-room',
  init: () => ({ members: [], said: 0 }),
  handle: (state, msg) => {
    if (msg.type === 'join') { state.members.push(msg.user); return state.members.length }
    if (msg.type === 'say') { state.said++; return undefined }
    return state
  }
})

describe('createNode', function () {
  this.timeout(20_000)
  const nodes: SimplePoolNode[] = []
  after(async () => { for (const n of nodes) await n.stop() })

  it('ends its process as soon as its nodes stopped: nothing of theirs holds the event loop', async () => {
    const app = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/stop-exit.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    app.stdout.on('data', (b: Buffer) => { out += b.toString() })
    app.stderr.on('data', (b: Buffer) => { err += b.toString() })
    try {
      // it exits by itself (libp2p left a gossipsub heartbeat and a 1 s debounce behind)
      const code = await new Promise<number | null>((resolve) => app.once('close', resolve))
      expect(code, err).to.equal(0)
      expect(JSON.parse(out.trim()), 'what held the event loop 100 ms after the stops').to.deep.equal([])
    } finally {
      app.kill('SIGKILL')
    }
  })

  it('runs a one-node cluster on loopback from the pools alone', async () => {
    const node = await createNode({ pools: [rooms] })
    nodes.push(node)
    const activated: WorkerEventDetail[] = []
    node.addEventListener('worker:activate', (e) => { activated.push(e.detail) })
    expect(node.peerId).to.be.a('string')
    expect(node.addresses[0]).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    const room = node.ref('chat-room', 'room-42')
    expect(await room.call({ type: 'join', user: 'ada' })).to.equal(1)
    room.cast({ type: 'say', text: 'hi' })
    expect(await room.call({ type: 'get' })).to.deep.equal({ members: ['ada'], said: 1 })
    expect(activated).to.have.length(1)
    expect(activated[0]).to.deep.include({ pool: 'chat-room', id: 'room-42', node: node.peerId })
    expect(await node.count('chat-room')).to.equal(1)
    expect(node.members()).to.have.length(1)
    expect(node.members()[0].pools['chat-room']).to.deep.equal({ target: 100_000, count: 1 })
    expect(node.health().pools['chat-room'].active).to.equal(1)
  })

  it('joins a second node through bootstrap and shares the workers between them', async () => {
    const first = nodes[0]
    const second = await createNode({ pools: [rooms], bootstrap: first.addresses, targets: { 'chat-room': 100_000 } })
    nodes.push(second)
    const joined = Date.now() + 5_000
    while (first.members().filter(m => m.status === 'up').length < 2 && Date.now() < joined) await new Promise(resolve => setTimeout(resolve, 50))
    expect(first.members().filter(m => m.status === 'up')).to.have.length(2)
    const ids = Array.from({ length: 2000 }, (_, i) => `r${i}`)
    expect(await second.spawnMany('chat-room', ids)).to.equal(2000)
    const here = await first.count('chat-room', { local: true })
    const there = await second.count('chat-room', { local: true })
    expect(here + there).to.be.within(2000, 2001) // room-42 may have stayed on the first node
    expect(Math.min(here, there)).to.be.above(700)
  })

  it('sets targets all or nothing, on itself or another node', async () => {
    const [first, second] = nodes
    let err: Error | undefined
    try {
      await first.setTargets(first.peerId, { 'chat-room': 5, 'no-such-pool': 5 })
    } catch (e) {
      err = e as Error
    }
    expect(err?.name).to.equal('UnknownPoolError')
    expect(first.runtime.targets()['chat-room']).to.equal(100_000) // the known pool did not change either
    await first.setTargets(second.peerId, { 'chat-room': 50_000 })
    expect(second.runtime.targets()['chat-room']).to.equal(50_000)
    const health = await first.healthOf(second.peerId)
    expect(health.pools['chat-room'].target).to.equal(50_000)
    expect(await second.metrics()).to.match(/^simplepool_target\{pool="chat-room"\} 50000$/m)
  })

  it('moves the ring for a target change past 5% of the announced target, not for one within it', async () => {
    const [first] = nodes
    const announced = (): number | undefined => first.members().find(m => m.peerId === first.peerId)?.pools['chat-room'].target
    const version = first.placement().version
    await first.setTargets(first.peerId, { 'chat-room': 103_000 })
    expect(first.runtime.targets()['chat-room']).to.equal(103_000)
    expect(announced()).to.equal(100_000)
    expect(first.placement().version).to.equal(version)
    await first.setTargets(first.peerId, { 'chat-room': 106_000 })
    expect(announced()).to.equal(106_000)
    expect(first.placement().version).to.be.above(version)
  })

  it('refuses bad options with a named error', async () => {
    let err: Error | undefined
    try {
      await createNode({ pools: [rooms], targets: { 'no-such-pool': 5 } })
    } catch (e) {
      err = e as Error
    }
    expect(err?.name).to.equal('InvalidOptionError')
  })

  describe('never runs alone by mistake', () => {
    /** What `createNode(init)` rejects with; undefined when it started (then stopped here). */
    async function startError (init: Parameters<typeof createNode>[0]): Promise<Error & { data?: { failures?: string[] } } | undefined> {
      try {
        await (await createNode(init)).stop()
      } catch (err) {
        return err as Error
      }
    }

    it('a node whose bootstrap address leads to no member fails its start with JoinTimeoutError, naming what the dial met', async () => {
      const gone = await createNode({ pools: [rooms] })
      const address = gone.addresses[0]
      await gone.stop()
      const err = await startError({ pools: [rooms], bootstrap: [address], joinTimeoutMs: 1_500, logger: silentLogger })
      expect(err?.name).to.equal('JoinTimeoutError')
      expect(err?.message).to.include(address)
      expect(err?.data?.failures?.length).to.be.above(0)
    })

    it('a node with another cluster key fails its start with JoinTimeoutError, its dial having met ClusterKeyError', async () => {
      const keyed = await createNode({ pools: [rooms], clusterKey: 'a1'.repeat(32) })
      try {
        // proven by dials in a row each refused or left waiting after its nonce, one refused
        // (see dialProven); short dials, so that several named ones fit in the join's time
        const err = await startError({ pools: [rooms], bootstrap: keyed.addresses, clusterKey: 'b2'.repeat(32), joinTimeoutMs: 6_000, dialTimeoutMs: 300, logger: silentLogger })
        expect(err?.name).to.equal('JoinTimeoutError')
        expect(err?.data?.failures?.join(' ')).to.include('ClusterKeyError')
        // nobody let it in
        expect(keyed.members()).to.have.length(1)
      } finally {
        await keyed.stop()
      }
    })

    it('a node whose bootstrap list names only itself starts a cluster: the first node of a static list', async () => {
      const probe = await createNode({ pools: [rooms], listen: ['/ip4/127.0.0.1/tcp/0'] })
      const port = /tcp\/(\d+)/.exec(probe.addresses[0])?.[1] as string
      await probe.stop()
      const first = await createNode({ pools: [rooms], listen: [`/ip4/127.0.0.1/tcp/${port}`], bootstrap: [`/ip4/127.0.0.1/tcp/${port}`], joinTimeoutMs: 1_000 })
      try {
        expect(await first.ref('chat-room', 'r1').call({ type: 'join', user: 'ada' })).to.equal(1)
      } finally {
        await first.stop()
      }
    })
  })
})
