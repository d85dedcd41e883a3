import { expect } from 'chai'
import { seededRandom } from '@simplepool/core'
import { SimClock } from '../src/sim-clock.js'
import { SimNetwork } from '../src/sim-network.js'

/** Two nodes, A and B: B records the casts it gets and answers calls with what it was sent, or never for 'hang'. */
function pair (): { clock: SimClock, net: SimNetwork, got: unknown[], a: ReturnType<SimNetwork['attach']> } {
  const clock = new SimClock()
  const net = new SimNetwork(clock, seededRandom(9), { delayMs: 1, jitterMs: 5 })
  const got: unknown[] = []
  const a = net.attach('A', { handleCall: () => null, handleCast: () => {} })
  net.attach('B', {
    handleCall: (p) => p === 'hang' ? new Promise(() => {}) : p,
    handleCast: (p) => { got.push(p) }
  })
  return { clock, net, got, a }
}

async function outcome (p: Promise<unknown>): Promise<unknown> {
  return await p.then(v => v, (err: Error) => err.name)
}

describe('SimNetwork', () => {
  it('delivers in the order sent on a link whatever the jitter, a copy through the codec', async () => {
    const { clock, got, a } = pair()
    const value = { list: [1, 2] }
    for (let k = 0; k < 50; k++) a.cast('B', k)
    a.cast('B', value)
    await clock.run(1_000)
    expect(got.slice(0, 50)).to.deep.equal(Array.from({ length: 50 }, (_, k) => k))
    expect(got[50]).to.deep.equal(value)
    expect(got[50]).to.not.equal(value)
  })

  it('loses what crosses a cut link (a call ends at its deadline), and carries it again once healed', async () => {
    const { clock, net, got, a } = pair()
    net.partition('A', 'B', true)
    a.cast('B', 'lost')
    const call = outcome(a.call('B', 'x', { timeoutMs: 100 }))
    await clock.run(99)
    await clock.run(200)
    expect(await call).to.equal('TimeoutError')
    expect(got).to.deep.equal([])
    expect(net.stats.dropped).to.equal(2)
    net.heal()
    const again = outcome(a.call('B', 'x', { timeoutMs: 100 }))
    await clock.run(400)
    expect(await again).to.equal('x')
  })

  it('fails the calls waiting on a node that is gone at once, and refuses what cannot be encoded', async () => {
    const { clock, net, a } = pair()
    const waiting = outcome(a.call('B', 'hang', { timeoutMs: 10_000 }))
    await clock.run(50)
    net.detach('B')
    await clock.run(51)
    expect(await waiting).to.equal('NodeUnavailableError')
    expect(await outcome(a.call('B', 'x', { timeoutMs: 100 }))).to.equal('NodeUnavailableError')
    expect(() => { a.cast('A', { f: () => 1 }) }).to.throw().with.property('name', 'InvalidMessageError')
  })
})
