import { expect } from 'chai'
import { ManualClock, VIEW_WAIT_MS } from '@simplepool/core'
import { ViewWait } from '../../src/routing/view-wait.js'

describe('messages waiting for the view', () => {
  it('go again when the view moves, in arrival order, with later ones for the same worker behind the first', () => {
    const clock = new ManualClock()
    const wait = new ViewWait({ clock })
    const ran: string[] = []
    expect(wait.has('p', 'a')).to.equal(false)
    expect(wait.hold('p', 'a', () => { ran.push('a1') }, Infinity)).to.equal(true)
    expect(wait.has('p', 'a')).to.equal(true)
    // a later message for the same worker waits behind it, whatever it is
    expect(wait.hold('p', 'a', () => { ran.push('a2') }, Infinity)).to.equal(true)
    expect(wait.hold('p', 'b', () => { ran.push('b1') }, Infinity)).to.equal(true)
    clock.advance(100)
    expect(ran).to.deep.equal([])
    wait.viewMoved()
    expect(ran).to.deep.equal(['a1', 'a2', 'b1'])
    expect(wait.has('p', 'a')).to.equal(false)
  })

  it('goes back as before once its time is up, and each routing again keeps the end of the first wait', () => {
    const clock = new ManualClock()
    const wait = new ViewWait({ clock })
    const ends: number[] = []
    const start = clock.monotonic()
    wait.hold('p', 'a', (until) => { ends.push(until) }, Infinity)
    clock.advance(200)
    wait.viewMoved()
    expect(ends).to.deep.equal([start + VIEW_WAIT_MS])
    // routed again, it would wait once more: only until that same end
    expect(wait.hold('p', 'a', (until) => { ends.push(until) }, Infinity, undefined, ends[0])).to.equal(true)
    clock.advance(VIEW_WAIT_MS)
    expect(ends).to.deep.equal([start + VIEW_WAIT_MS, start + VIEW_WAIT_MS])
    // past it, it may not wait again: the caller sends it back at once
    expect(wait.hold('p', 'a', () => {}, Infinity, undefined, ends[1])).to.equal(false)
  })

  it('answers a call that reaches its deadline while it waits, and leaves the rest waiting', () => {
    const clock = new ManualClock()
    const wait = new ViewWait({ clock })
    const seen: string[] = []
    wait.hold('p', 'a', () => { seen.push('a routed') }, clock.monotonic() + 50, () => { seen.push('a expired') })
    wait.hold('p', 'a', () => { seen.push('cast routed') }, Infinity)
    clock.advance(60)
    expect(seen).to.deep.equal(['a expired'])
    expect(wait.has('p', 'a')).to.equal(true)
    wait.viewMoved()
    expect(seen).to.deep.equal(['a expired', 'cast routed'])
  })

  it('lets everything go when the node stops, and holds nothing after', () => {
    const clock = new ManualClock()
    const wait = new ViewWait({ clock })
    const ran: string[] = []
    wait.hold('p', 'a', () => { ran.push('a') }, Infinity)
    wait.close()
    expect(ran).to.deep.equal(['a'])
    expect(wait.hold('p', 'b', () => { ran.push('b') }, Infinity)).to.equal(false)
    clock.advance(VIEW_WAIT_MS * 2)
    expect(ran).to.deep.equal(['a'])
  })

  it('settles a wait behind what waits for a worker once that went on; none when nothing waits', async () => {
    const clock = new ManualClock()
    const wait = new ViewWait({ clock })
    expect(wait.behind('p', 'a')).to.equal(undefined)
    const ran: string[] = []
    wait.hold('p', 'a', () => { ran.push('a1') }, Infinity)
    const behind = wait.behind('p', 'a')?.then(() => { ran.push('behind') })
    expect(behind).to.not.equal(undefined)
    wait.viewMoved()
    await behind
    expect(ran).to.deep.equal(['a1', 'behind'])
  })
})
