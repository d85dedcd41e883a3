import { expect } from 'chai'
import { deadlineSignal, seededRandom, shuffle, withDefaults } from '../src/index.js'

describe('withDefaults', () => {
  it('keeps a default where the init field is present but undefined', () => {
    const out = withDefaults({ listen: ['a'], port: 1 }, { listen: undefined, port: 2 })
    expect(out).to.deep.equal({ listen: ['a'], port: 2 })
  })
})

describe('seeded randomness', () => {
  it('replays exactly from the same seed', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    for (let i = 0; i < 100; i++) expect(a.next()).to.equal(b.next())
  })

  it('shuffles without bias (Fisher-Yates): each item lands in each slot about equally', () => {
    const r = seededRandom(7)
    const counts = [0, 0, 0, 0]
    for (let i = 0; i < 40_000; i++) counts[shuffle([0, 1, 2, 3], r).indexOf(0)]++
    for (const c of counts) expect(c).to.be.within(9_000, 11_000)
  })
})

describe('deadlineSignal', () => {
  it('aborts with TimeoutError after the deadline', async () => {
    const { signal, dispose } = deadlineSignal({ timeoutMs: 20 }, 1_000, 'test')
    await new Promise(resolve => setTimeout(resolve, 40))
    expect(signal.aborted).to.equal(true)
    expect((signal.reason as Error).name).to.equal('TimeoutError')
    dispose()
  })

  it("aborts with AbortError on the caller's signal", () => {
    const outer = new AbortController()
    const { signal, dispose } = deadlineSignal({ signal: outer.signal }, 1_000)
    outer.abort()
    expect((signal.reason as Error).name).to.equal('AbortError')
    dispose()
  })
})
