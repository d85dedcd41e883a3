import { expect } from 'chai'
import { startCluster } from '@simplepool/testing'
import type { Cluster, NodeHandle } from '@simplepool/testing'

interface CallResult { ok: boolean, value?: unknown, error?: { name: string, message: string } }

async function call (from: NodeHandle, to: NodeHandle, payload: unknown, timeoutMs?: number): Promise<CallResult> {
  return from.request<CallResult>('call', { peer: to.peerId, payload, timeoutMs })
}

describe('transport across real processes', function () {
  this.timeout(60_000)
  let cluster: Cluster
  let a: NodeHandle
  let b: NodeHandle
  let c: NodeHandle

  before(async () => {
    // small bounds so the overload cases are reachable in a test
    cluster = await startCluster({ nodes: 3, transport: { maxQueuedPerPeer: 1_000, maxPendingCallsPerPeer: 2_000 } })
    ;[a, b, c] = cluster.nodes
  })

  after(async () => {
    await cluster?.stop()
  })

  it('a call returns the reply, with structured values intact', async () => {
    const value = { text: 'hi', n: 42, list: [1, 'two', null], nested: { ok: true }, bytes: new Uint8Array([1, 2, 3]) }
    const r = await call(a, b, { op: 'echo', value })
    expect(r.ok).to.equal(true)
    const { bytes, ...rest } = r.value as typeof value
    expect(rest).to.deep.equal({ text: 'hi', n: 42, list: [1, 'two', null], nested: { ok: true } })
    expect(Array.from(bytes)).to.deep.equal([1, 2, 3])
  })

  it("a handler's error crosses the wire with its own name and message", async () => {
    const r = await call(a, b, { op: 'fail', name: 'RoomFullError', message: 'room-42 is full' })
    expect(r).to.deep.include({ ok: false })
    expect(r.error).to.deep.include({ name: 'RoomFullError', message: 'room-42 is full' })
  })

  it('a call with no answer rejects with TimeoutError at its deadline, not before', async () => {
    const started = Date.now()
    const r = await call(a, b, { op: 'hang' }, 300)
    const took = Date.now() - started
    expect(r.error?.name).to.equal('TimeoutError')
    expect(took).to.be.at.least(300)
    expect(took).to.be.below(3_000)
  })

  it('many calls at once all resolve, each with its own reply', async () => {
    const r = await a.request<{ outcomes: Record<string, number> }>('callMany', { peer: c.peerId, n: 900, payload: { op: 'echo', value: 7 } })
    expect(r.outcomes).to.deep.equal({ ok: 900 })
  })

  it('past the per-peer queue limit a cast fails at once with OverloadedError', async () => {
    // 5,000 casts in one synchronous loop: the queue (limit 1,000) cannot flush in between
    const r = await a.request<{ sent: number, errors: Record<string, number> }>('cast', { peer: b.peerId, payload: { op: 'inc' }, n: 5_000 })
    expect(r.sent).to.equal(1_000)
    expect(r.errors).to.deep.equal({ OverloadedError: 4_000 })
    // and the channel still works afterwards
    expect((await call(a, b, { op: 'echo', value: 'after' })).value).to.equal('after')
  })

  it('past the pending-call limit a call fails at once with OverloadedError', async () => {
    // 500 calls per turn, each answered after 500 ms: the queue flushes, the pending calls
    // pile up to 2,000. To c, whose handlers are all idle (b still holds a hung call).
    const r = await a.request<{ outcomes: Record<string, number> }>('callMany', { peer: c.peerId, n: 2_500, batch: 500, payload: { op: 'sleep', ms: 500, value: 1 } })
    expect(r.outcomes).to.deep.equal({ ok: 2_000, OverloadedError: 500 })
  })

  it('a callee handles at most its limit of calls from one peer at once; past it, OverloadedError', async () => {
    // b (limit 2,000) still holds one hung call from a, so of 2,000 more it takes 1,999
    const r = await a.request<{ outcomes: Record<string, number> }>('callMany', { peer: b.peerId, n: 2_000, batch: 500, payload: { op: 'sleep', ms: 500, value: 1 } })
    expect(r.outcomes).to.deep.equal({ ok: 1_999, OverloadedError: 1 })
  })

  for (const kind of ['oversize', 'garbage', 'not-array', 'bad-version', 'bad-kind']) {
    it(`a ${kind} frame closes that stream only, counted, with a logged InvalidMessageError (once a second per peer at most)`, async () => {
      const before = await b.request<{ invalidFrames: number }>('stats')
      const r = await a.request<{ result: string }>('raw', { peer: b.peerId, kind })
      expect(r.result).to.not.equal('open')
      expect((await b.request<{ invalidFrames: number }>('stats')).invalidFrames).to.equal(before.invalidFrames + 1)
      // the log names the peer, its first bad stream at once, the next ones within the second in the line after it
      await b.waitFor(() => b.logs.some(l => l.includes(`closing stream from ${a.peerId}: InvalidMessageError`)), 3_000, 'InvalidMessageError logged')
      // the node and its other streams keep working
      expect((await call(c, b, { op: 'echo', value: 'c' })).value).to.equal('c')
      expect((await call(a, b, { op: 'echo', value: 'a' })).value).to.equal('a')
      expect((await call(b, a, { op: 'echo', value: 'b' })).value).to.equal('b')
    })
  }

  it('a well-formed raw frame is accepted and delivered, and the stream stays open', async () => {
    const before = await b.request<{ count: number }>('castsReceived')
    const r = await a.request<{ result: string }>('raw', { peer: b.peerId, kind: 'good-cast', waitMs: 500 })
    expect(r.result).to.equal('open')
    const after = await b.request<{ count: number, last: unknown }>('castsReceived')
    expect(after.count).to.equal(before.count + 1)
    expect(after.last).to.deep.equal({ op: 'raw' })
  })

  it('calls pending to a peer that is killed reject with NodeUnavailableError at once, none hangs', async () => {
    const victim = await cluster.addNode({ name: 'victim' })
    await cluster.waitForConvergence()
    const pending = a.request<{ outcomes: Record<string, number>, ms: number }>('callMany', { peer: victim.peerId, n: 200, payload: { op: 'hang' }, timeoutMs: 20_000 })
    await new Promise(resolve => setTimeout(resolve, 300))
    victim.kill('SIGKILL')
    const r = await pending
    expect(r.outcomes).to.deep.equal({ NodeUnavailableError: 200 })
    // 300 ms of waiting before the kill, then the closed stream fails them at once, far
    // below their 20 s deadline (the bound leaves room for a loaded machine)
    expect(r.ms).to.be.below(2_000)
    const after = await call(a, victim, { op: 'echo', value: 1 }, 2_000)
    expect(after.error?.name).to.be.oneOf(['NodeUnavailableError', 'TimeoutError'])
    await cluster.waitForConvergence()
  })
})
