import { expect } from 'chai'
import fc from 'fast-check'
import { ManualClock, isSimplePoolError, silentLogger } from '@simplepool/core'
import { definePool } from '@simplepool/runtime'
import type { Runtime } from '@simplepool/runtime'
import { Transport } from '@simplepool/transport'
import { createNode } from 'simplepool'
import type { SimplePoolNode } from 'simplepool'
import { decoderTargets } from '../fuzz/decoders.js'
import { payloadFor, wireValue, bytesNear } from '../fuzz/wire-values.js'
import { adminRequests, checkAdminRequest } from '../fuzz/admin.js'
import { LocalCluster } from '../packages/runtime/test/fixtures.js'
import { memoryPair } from '../packages/transport/test/memory-stream.js'

/**
 * Property tests of everything a node reads from another, with a budget that fits the
 * suite (`npm run fuzz` runs millions): each decoder alone; a runtime's dispatch fed
 * whatever a member could send; a transport's stream fed bytes; the admin API fed
 * requests. Whatever arrives, the node answers with named errors, keeps serving its
 * other workers with exact state, and closes only the stream that sent garbage.
 */
describe('fuzzing what arrives from the network', function () {
  this.timeout(120_000)

  describe('each decoder returns a message in its domain or throws InvalidMessageError', () => {
    for (const target of decoderTargets) {
      it(target.name, () => {
        fc.assert(fc.property(target.input, (input) => { target.check(input) }), { numRuns: 1_000 })
      })
    }
  })

  /** A pool whose handler takes any message: what the fuzz sends its workers is theirs, and not a failure of the node. */
  const tally = definePool<{ n: number }, unknown, number>({ name: 'counter', init: () => ({ n: 0 }), handle: (s, msg) => msg === 'inc' ? ++s.n : s.n })

  it("a runtime's dispatch answers anything a member sends with a reply or a named error, and its other workers keep their state", async () => {
    const clock = new ManualClock()
    const cluster = new LocalCluster(clock)
    try {
      const a = cluster.add('n1', { pools: [tally] })
      const b = cluster.add('n2', { pools: [tally] })
      const keeper = async (): Promise<number> => await a.ref('counter', 'keeper').call('get') as number
      for (let i = 0; i < 5; i++) await a.ref('counter', 'keeper').call('inc')
      const ops = fc.oneof(...[1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 100, 101, 105].map(op => payloadFor(op)), wireValue)
      const unnamed: string[] = []
      const named = (err: unknown): void => {
        const name = (err as Error)?.name
        if (typeof name !== 'string' || !isSimplePoolError(name)) unnamed.push(`${String(name)}: ${(err as Error)?.message}`)
      }
      fc.assert(fc.property(ops, fc.constantFrom('n1', 'stranger'), fc.boolean(), (payload, from, asCall) => {
        try {
          if (asCall) Promise.resolve(b.handleCall(payload, from)).catch(named)
          else b.handleCast(payload, from)
        } catch (err) { named(err) }
      }), { numRuns: 3_000 })
      // what waits on the clock (deadlines, claims, barriers) settles
      for (let i = 0; i < 40; i++) { clock.advance(500); await new Promise(resolve => setImmediate(resolve)) }
      expect(unnamed, 'errors that are not SimplePool\'s own').to.deep.equal([])
      expect(await keeper()).to.equal(5)
      expect(await runsAfter(b)).to.equal(1)
    } finally {
      await cluster.stop()
    }
  })

  /** A fresh worker on `rt` still runs a turn. */
  async function runsAfter (rt: Runtime): Promise<number> {
    return await rt.ref('counter', `fresh-${Math.random()}`).call('inc') as number
  }

  it('a transport closes a stream that sends garbage and answers on every other', async () => {
    const handlers = new Map<string, (s: never, from: string) => void>()
    const made = (self: string): Transport => new Transport({
      handle: async (_p, h) => { handlers.set(self, h as never) },
      unhandle: async () => { handlers.delete(self) },
      newStream: async (to) => {
        const [mine, theirs] = memoryPair()
        handlers.get(to)?.(theirs.asStream() as never, self)
        return mine.asStream()
      },
      logger: silentLogger
    })
    const a = made('A')
    const b = made('B')
    b.setHandlers({ onCall: (p) => ({ echo: p }), onCast: () => {} })
    await a.start()
    await b.start()
    try {
      const frames = bytesNear(fc.array(fc.tuple(fc.constantFrom(1, 2, 3, 4), wireValue, wireValue), { maxLength: 3 }).map(es => es.map(([k, x, y]) => [1, k, x, y])))
      await fc.assert(fc.asyncProperty(frames, fc.boolean(), async (body, prefixed) => {
        const [mine, theirs] = memoryPair()
        handlers.get('B')?.(theirs.asStream() as never, 'C')
        const bytes = prefixed ? withLength(body) : body
        mine.send(bytes)
        await new Promise(resolve => setImmediate(resolve))
        expect(await a.call('B', 'still there')).to.deep.equal({ echo: 'still there' })
        mine.abort(new Error('done'))
      }), { numRuns: 300 })
      expect(b.stats.invalidFrames).to.be.greaterThan(0)
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  function withLength (body: Uint8Array): Uint8Array {
    const out = new Uint8Array(body.length + 4)
    new DataView(out.buffer).setUint32(0, body.length)
    out.set(body, 4)
    return out
  }

  describe('the admin API', () => {
    let node: SimplePoolNode
    let base: string
    const token = 'fuzz-token-1234'
    before(async () => {
      node = await createNode({ pools: [tally], admin: { port: 0, token }, logger: silentLogger, processMetrics: false })
      base = `http://127.0.0.1:${node.adminAddress?.port ?? 0}`
      for (let i = 0; i < 3; i++) await node.ref('counter', 'kept-aside').call('inc')
    })
    after(async () => { await node?.stop({ drainTimeoutMs: 0 }) })

    it('answers any request with a status and, for an error, a named JSON error; the node serves on', async () => {
      await fc.assert(fc.asyncProperty(adminRequests(node.peerId), async (r) => { await checkAdminRequest(base, token, r) }), { numRuns: 250 })
      // a request may have drained the node, or set its target to 0: given back, it serves again
      await node.undrain(node.peerId).catch(() => {})
      await node.setTargets(node.peerId, { counter: 100_000 })
      expect((await fetch(`${base}/healthz`)).status).to.equal(200)
      expect(await node.ref('counter', 'kept-aside').call('get')).to.equal(3)
    })
  })
})
