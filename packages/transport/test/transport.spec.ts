import { expect } from 'chai'
import { ManualClock, silentLogger } from '@simplepool/core'
import type { Clock } from '@simplepool/core'
import type { Stream } from '@libp2p/interface'
import { Transport } from '../src/index.js'
import type { TransportInit } from '../src/index.js'
import { memoryPair } from './memory-stream.js'
import type { MemoryStream } from './memory-stream.js'

interface Net { transports: Map<string, Transport>, handlers: Map<string, (s: Stream, from: string, stale?: boolean) => void>, streams: MemoryStream[], stale?: boolean }

function node (net: Net, peerId: string, init: TransportInit = {}, clock?: Clock): Transport {
  const t = new Transport({
    handle: async (_p, h) => { net.handlers.set(peerId, h) },
    unhandle: async () => { net.handlers.delete(peerId) },
    newStream: async (to) => {
      const h = net.handlers.get(to)
      if (h == null) throw Object.assign(new Error(`no peer ${to}`), { name: 'NodeUnavailableError' })
      const [mine, theirs] = memoryPair()
      net.streams.push(mine)
      h(theirs.asStream(), peerId, net.stale)
      return mine.asStream()
    },
    logger: silentLogger,
    ...(clock != null ? { clock } : {})
  }, init)
  net.transports.set(peerId, t)
  return t
}

async function pair (init: TransportInit = {}, clock?: Clock): Promise<{ a: Transport, b: Transport, net: Net, casts: unknown[] }> {
  const net: Net = { transports: new Map(), handlers: new Map(), streams: [] }
  const a = node(net, 'A', init, clock)
  const b = node(net, 'B', init, clock)
  const casts: unknown[] = []
  b.setHandlers({
    onCast: (p) => { casts.push(p) },
    onCall: (p) => {
      const m = p as { op: string, ms?: number }
      if (m.op === 'hang') return new Promise(() => {})
      if (m.op === 'late') return new Promise(resolve => setTimeout(() => { resolve('late') }, 30))
      if (m.op === 'throw') throw Object.assign(new Error('nope'), { name: 'NopeError' })
      return { echo: p }
    }
  })
  await a.start()
  await b.start()
  return { a, b, net, casts }
}

const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('Transport (in memory)', () => {
  it('coalesces every cast of one turn into one frame', async () => {
    const { a, b, casts } = await pair()
    for (let i = 0; i < 500; i++) a.cast('B', i)
    for (let i = 0; i < 5 && casts.length < 500; i++) await turn()
    expect(casts).to.deep.equal(Array.from({ length: 500 }, (_, i) => i))
    expect(a.stats.framesOut).to.equal(1)
    expect(b.stats.framesIn).to.equal(1)
  })

  it('a call refused for its arguments or its peer rejects, never throws where it is made', async () => {
    const { a } = await pair()
    // not async functions: those would turn a throw into a rejection themselves
    const refusals: Array<() => Promise<unknown>> = [
      () => a.call('B', 1, { timeoutMs: -1 }),
      () => a.call('B', 1, { signal: AbortSignal.abort() }),
      () => a.call('B', 1, null as unknown as undefined)
    ]
    for (const refuse of refusals) {
      let promise: Promise<unknown> | undefined
      expect(() => { promise = refuse() }).to.not.throw()
      await promise?.then(() => expect.fail('resolved'), (err: Error) => expect(err).to.be.an('error'))
    }
    await a.stop()
    let afterStop: Promise<unknown> | undefined
    expect(() => { afterStop = a.call('B', 1) }).to.not.throw()
    await afterStop?.then(() => expect.fail('resolved'), (err: Error) => expect(err.name).to.equal('NotStartedError'))
  })

  it('a pair of peers shares one stream: the callee calls back on the stream the caller opened', async () => {
    const { a, b, net } = await pair()
    a.setHandlers({ onCall: (p) => ({ fromA: p }) })
    expect(await a.call('B', 1)).to.deep.equal({ echo: 1 })
    expect(await b.call('A', 2)).to.deep.equal({ fromA: 2 })
    expect(net.streams).to.have.length(1)
  })

  it('answers on a stream that came on a stale connection, but sends on one of its own', async () => {
    const { a, b, net } = await pair()
    a.setHandlers({ onCall: (p) => ({ fromA: p }) })
    net.stale = true
    expect(await a.call('B', 1)).to.deep.equal({ echo: 1 })
    net.stale = false
    expect(await b.call('A', 2)).to.deep.equal({ fromA: 2 })
    expect(net.streams).to.have.length(2)
  })

  it('cuts a large queue into frames of at most maxEnvelopesPerFrame', async () => {
    const { a, casts } = await pair({ maxEnvelopesPerFrame: 100 })
    for (let i = 0; i < 1_000; i++) a.cast('B', i)
    for (let i = 0; i < 5 && casts.length < 1_000; i++) await turn()
    expect(casts).to.have.length(1_000)
    expect(a.stats.framesOut).to.equal(10)
  })

  it('answers calls in one frame per turn, and passes a thrown error by name', async () => {
    const { a, b } = await pair()
    const replies = await Promise.all(Array.from({ length: 50 }, async (_, i) => a.call('B', { op: 'echo', i })))
    expect(replies[7]).to.deep.equal({ echo: { op: 'echo', i: 7 } })
    expect(b.stats.framesOut).to.equal(1)
    const err = await a.call('B', { op: 'throw' }).catch((e: Error) => e)
    expect((err as Error).name).to.equal('NopeError')
  })

  it('sends replies to a big frame of calls in parts, before the whole frame is handled', async () => {
    const { a, b } = await pair()
    const replies = await Promise.all(Array.from({ length: 256 }, async (_, i) => a.call('B', i)))
    expect(replies[255]).to.deep.equal({ echo: 255 })
    expect(a.stats.framesOut).to.equal(1)
    expect(b.stats.framesOut).to.equal(4)
  })

  it('times a call out on the deadline wheel, not before', async () => {
    const clock = new ManualClock()
    const { a } = await pair({}, clock)
    const p = a.call('B', { op: 'hang' }, { timeoutMs: 100 })
    await turn()
    clock.advance(99)
    let settled = false
    void p.then(() => { settled = true }, () => { settled = true })
    await turn()
    expect(settled).to.equal(false)
    clock.advance(20)
    const err = await p.catch((e: Error) => e)
    expect((err as Error).name).to.equal('TimeoutError')
    expect(a.stats.timeouts).to.equal(1)
    expect(a.pendingCalls()).to.equal(0)
  })

  it('a reply that comes after the deadline is counted and dropped', async () => {
    const clock = new ManualClock()
    const { a } = await pair({}, clock)
    const p = a.call('B', { op: 'late' }, { timeoutMs: 10 })
    for (let i = 0; i < 10 && a.stats.framesOut === 0; i++) await turn()
    expect(a.stats.framesOut).to.equal(1)
    clock.advance(20)
    expect(((await p.catch((e: Error) => e)) as Error).name).to.equal('TimeoutError')
    await new Promise(resolve => setTimeout(resolve, 60))
    expect(a.stats.lateReplies).to.equal(1)
  })

  it('waits for the stream to drain when it is full, and loses nothing', async () => {
    const { a, net, casts } = await pair({ maxEnvelopesPerFrame: 10 })
    a.cast('B', -1)
    await turn()
    net.streams[0].fullEvery = 3
    for (let i = 0; i < 200; i++) a.cast('B', i)
    for (let i = 0; i < 100 && casts.length < 201; i++) await turn()
    expect(casts).to.deep.equal([-1, ...Array.from({ length: 200 }, (_, i) => i)])
    expect(net.streams[0].drains).to.be.greaterThan(3)
  })

  it('a call given up before it was written is never sent', async () => {
    const { a, b } = await pair()
    const ctl = new AbortController()
    const p = a.call('B', { op: 'echo', n: 1 }, { signal: ctl.signal })
    ctl.abort()
    expect(((await p.catch((e: Error) => e)) as Error).name).to.equal('AbortError')
    expect(await a.call('B', 'next')).to.deep.equal({ echo: 'next' })
    // the aborted call left with nothing: b saw only the second
    expect(b.stats.envelopesIn).to.equal(1)
  })

  it('a signal that is not an AbortSignal rejects the call where it is made, and leaves nothing pending or sent', async () => {
    const { a, b } = await pair()
    let thrown: unknown
    let p: Promise<unknown> | undefined
    try {
      p = a.call('B', 'x', { signal: { aborted: false } as unknown as AbortSignal })
    } catch (err) {
      thrown = err
    }
    expect(thrown).to.equal(undefined)
    expect(((await (p as Promise<unknown>).catch((e: Error) => e)) as Error).name).to.equal('TypeError')
    expect(a.pendingCalls()).to.equal(0)
    expect(await a.call('B', 'next')).to.deep.equal({ echo: 'next' })
    expect(b.stats.envelopesIn).to.equal(1)
  })

  it('aborts a call through its signal', async () => {
    const { a } = await pair()
    const ctl = new AbortController()
    const p = a.call('B', { op: 'hang' }, { signal: ctl.signal })
    ctl.abort()
    expect(((await p.catch((e: Error) => e)) as Error).name).to.equal('AbortError')
    expect(a.pendingCalls()).to.equal(0)
  })

  it('a stream that closes fails exactly its pending calls, and the next call opens a new stream', async () => {
    const { a, net } = await pair()
    const pending = Array.from({ length: 10 }, async () => a.call('B', { op: 'hang' }).catch((e: Error) => e.name))
    await turn()
    net.streams[0].abort(new Error('cut'))
    expect(await Promise.all(pending)).to.deep.equal(Array(10).fill('NodeUnavailableError'))
    expect(await a.call('B', 'again')).to.deep.equal({ echo: 'again' })
    expect(net.streams).to.have.length(2)
  })

  it('peerDown fails pending calls at once', async () => {
    const { a } = await pair()
    const p = a.call('B', { op: 'hang' }, { timeoutMs: 60_000 })
    await turn()
    a.peerDown('B')
    expect(((await p.catch((e: Error) => e)) as Error).name).to.equal('NodeUnavailableError')
  })

  it('a message too big for a frame fails alone; its neighbours go through', async () => {
    const { a, casts } = await pair({ maxFrameBytes: 10_000 })
    const big = a.call('B', new Uint8Array(20_000)).catch((e: Error) => e)
    const small = a.call('B', 'small')
    a.cast('B', 'cast')
    const err = await big
    expect((err as Error).name).to.equal('InvalidMessageError')
    expect((err as Error).message).to.match(/exceeds the frame limit/)
    expect(await small).to.deep.equal({ echo: 'small' })
    await turn()
    expect(casts).to.deep.equal(['cast'])
  })

  it('a call to an unreachable peer rejects with NodeUnavailableError', async () => {
    const { a } = await pair()
    const err = await a.call('nobody', 1).catch((e: Error) => e)
    expect((err as Error).name).to.equal('NodeUnavailableError')
  })

  it('after stop, sends fail with NotStartedError and pending calls with NodeUnavailableError', async () => {
    const { a } = await pair()
    const p = a.call('B', { op: 'hang' })
    await turn()
    await a.stop()
    expect(((await p.catch((e: Error) => e)) as Error).name).to.equal('NodeUnavailableError')
    expect(() => { a.cast('B', 1) }).to.throw().with.property('name', 'NotStartedError')
  })

  it('refuses a timeout that is not a finite number a timer can hold', async () => {
    const { a } = await pair()
    for (const timeoutMs of [Infinity, 2 ** 31, 0, -1, Number.NaN]) {
      expect(((await a.call('B', 1, { timeoutMs }).catch((e: Error) => e)) as Error).name, String(timeoutMs)).to.equal('InvalidOptionError')
    }
  })

  it('refuses bad options by name', () => {
    expect(() => new Transport({ handle: async () => {}, unhandle: async () => {}, newStream: async () => { throw new Error() } }, { maxFrameBytes: -1 }))
      .to.throw(/maxFrameBytes must be a positive number/).with.property('name', 'InvalidOptionError')
  })
})
