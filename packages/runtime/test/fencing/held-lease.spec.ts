import { expect } from 'chai'
import { HeldLease } from '../../src/fencing/held-lease.js'

/** A fence that records what the lease asked of it. */
function fence (): { active: boolean, isolate: () => void, rejoined: (actedAlone: boolean) => void, calls: string[] } {
  const f = {
    active: false,
    calls: [] as string[],
    isolate: () => { f.calls.push('isolate'); f.active = true },
    rejoined: (actedAlone: boolean) => { f.calls.push(`rejoined ${String(actedAlone)}`); f.active = false }
  }
  return f
}

describe('a lease the membership keeps itself', () => {
  it('isolates the node once the lease is lost, and lets it rejoin (never having acted alone) once it holds again', () => {
    let holds = true
    const lease = new HeldLease(() => holds)
    const f = fence()
    lease.beat(f)
    expect(f.calls).to.deep.equal([])
    holds = false
    lease.beat(f)
    expect(lease.lost).to.equal(true)
    lease.beat(f)
    expect(f.calls, 'isolated once, not at every beat').to.deep.equal(['isolate'])
    holds = true
    lease.beat(f)
    expect(lease.lost).to.equal(false)
    expect(f.calls).to.deep.equal(['isolate', 'rejoined false'])
  })

  it('leaves a fence under way (a stall) as it is, and isolates once it is over if the lease is still lost', () => {
    let holds = false
    const lease = new HeldLease(() => holds)
    const f = fence()
    f.active = true
    lease.beat(f)
    expect(f.calls).to.deep.equal([])
    f.active = false
    lease.beat(f)
    expect(f.calls).to.deep.equal(['isolate'])
    holds = true
    lease.beat(f)
    expect(f.calls).to.deep.equal(['isolate', 'rejoined false'])
  })
})
