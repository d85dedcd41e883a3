import { expect } from 'chai'
import { ManualClock, ORDER_BARRIER_TIMEOUT_MS, ORDER_SENT_MS, ORDER_WINDOW_MS } from '@simplepool/core'
import { SendOrder } from '../../src/routing/send-order.js'
import type { RuntimeTransport } from '../../src/runtime-types.js'
import type { LocalPool } from '../../src/activation/local-pool.js'

/** A SendOrder whose barriers are recorded (and answered as `answer` says: never, by default), with the owners before given by the test. */
function setup (answer: (peer: string) => Promise<unknown> = async () => await new Promise(() => {})): { clock: ManualClock, order: SendOrder, barriers: string[], before: { owners: string[] } } {
  const clock = new ManualClock()
  const barriers: string[] = []
  const before = { owners: [] as string[] }
  const transport = {
    call: async (peer: string) => {
      barriers.push(peer)
      return await answer(peer)
    }
  } as unknown as RuntimeTransport
  const order = new SendOrder({ clock, transport, self: () => 'me', ownersBefore: () => before.owners, gone: () => false, behindWaiting: () => undefined })
  return { clock, order, barriers, before }
}

describe('SendOrder', () => {
  it('holds a message to a moved worker behind a barrier down the route before, within the window', () => {
    const { clock, order, barriers, before } = setup()
    order.ringChanged()
    order.sent('n6')
    before.owners = ['n6']
    expect(order.waitFor('p', 'a', undefined, 'n3')).to.not.equal(undefined)
    expect(barriers).to.deep.equal(['n6'])
    // past the window, with nothing unanswered, nothing is looked at
    clock.advance(ORDER_WINDOW_MS + 1)
    expect(order.waitFor('p', 'b', undefined, 'n3')).to.equal(undefined)
  })

  it('notes its own sends only within the window after its ring moved', () => {
    const { clock, order } = setup()
    // steady traffic with no move: nothing noted, nothing looked at
    expect(order.noting).to.equal(false)
    expect(order.active).to.equal(false)
    order.ringChanged()
    expect(order.noting).to.equal(true)
    clock.advance(ORDER_WINDOW_MS + 1)
    expect(order.noting).to.equal(false)
  })

  it('holds a message behind a call still unanswered down another route, however long ago its ring moved (seed 944)', async () => {
    const { clock, order, barriers } = setup()
    order.ringChanged()
    let answer: (v: unknown) => void = () => {}
    const answered = new Promise((resolve) => { answer = resolve })
    order.sent('n6')
    void order.callSent('p', 'a', 'n6', answered)
    // the window closes and the ring moves again: the placement that named n6 is past the window
    clock.advance(ORDER_WINDOW_MS + 100)
    order.ringChanged()
    expect(order.active).to.equal(true)
    expect(order.waitFor('p', 'a', undefined, 'n3')).to.not.equal(undefined)
    expect(barriers).to.deep.equal(['n6'])
    // another worker owes nothing down n6
    expect(order.waitFor('p', 'other', undefined, 'n3')).to.equal(undefined)
    // answered, the call holds nothing back
    answer(1)
    await answered
    await Promise.resolve()
    // past the window, and past the unanswered barrier's own deadline (what it held is gone with it)
    clock.advance(Math.max(ORDER_WINDOW_MS, ORDER_BARRIER_TIMEOUT_MS) + 1)
    expect(order.waitFor('p', 'a', undefined, 'n3')).to.equal(undefined)
    expect(barriers).to.deep.equal(['n6'])
  })

  it('asks again down a route whose barrier went unanswered, after the window too, until one passes there (seed 996)', async () => {
    let answering = false
    const { clock, order, barriers, before } = setup(async (peer) => {
      if (answering) return true
      await new Promise((resolve, reject) => { clock.setTimeout(() => { reject(Object.assign(new Error(`barrier to ${peer} timed out`), { name: 'TimeoutError' })) }, 2_000) })
    })
    order.ringChanged()
    order.sent('n5')
    before.owners = ['n5']
    const held = order.waitFor('p', 'a', undefined, 'n6')
    expect(held).to.not.equal(undefined)
    clock.advance(2_100)
    await new Promise(resolve => setImmediate(resolve))
    expect(held?.unconfirmed).to.equal(true)
    // the window is over, and the placement that named n5 with it: n5 is asked again all the same
    clock.advance(ORDER_WINDOW_MS)
    before.owners = []
    expect(order.waitFor('p', 'a', undefined, 'n6')).to.not.equal(undefined)
    expect(barriers).to.deep.equal(['n5', 'n5'])
    // the next barrier passes: no doubt left
    answering = true
    clock.advance(2_100)
    await new Promise(resolve => setImmediate(resolve))
    expect(order.waitFor('p', 'a', undefined, 'n6')).to.not.equal(undefined)
    expect(barriers).to.deep.equal(['n5', 'n5', 'n5'])
    await new Promise(resolve => setImmediate(resolve))
    clock.advance(ORDER_WINDOW_MS + 1)
    expect(order.waitFor('p', 'a', undefined, 'n6')).to.equal(undefined)
  })

  it('holds a message behind a cast sent lately down another route, after the window too (seed 127)', async () => {
    const { clock, order, barriers } = setup(async () => true)
    order.ringChanged()
    order.sent('n7')
    order.castSent('p', 'a', 'n7')
    // the ring moves again, and its window passes: the cast may still wait in a claim on n7
    clock.advance(ORDER_WINDOW_MS + 500)
    expect(order.waitFor('p', 'a', undefined, 'n6')).to.not.equal(undefined)
    expect(barriers).to.deep.equal(['n7'])
    await new Promise(resolve => setImmediate(resolve))
    // a cast long ago holds nothing back
    order.castSent('p', 'b', 'n7')
    clock.advance(ORDER_SENT_MS + 1)
    expect(order.waitFor('p', 'b', undefined, 'n6')).to.equal(undefined)
  })

  it('sends a message on down the route it sent the worker\'s messages on before while one may be on its way there (seed 620)', async () => {
    const { clock, order } = setup()
    let answer: (v: unknown) => void = () => {}
    const answered = new Promise((resolve) => { answer = resolve })
    // a call from n4 sent on to n6, the owner then
    void order.callSent('p', 'a', 'n6', answered)
    // the owner is n1 now: what n4 sends next goes down n6 behind it, another worker straight on
    expect(order.onward('p', 'a', 'n1', 'n4')).to.equal('n6')
    expect(order.onward('p', 'other', 'n1', 'n4')).to.equal('n1')
    // not back to where it came from
    expect(order.onward('p', 'a', 'n1', 'n6')).to.equal('n1')
    answer(1)
    await answered
    await Promise.resolve()
    expect(order.onward('p', 'a', 'n1', 'n4')).to.equal('n1')
    // a cast sent on keeps the route for the window (seed 300101: not ORDER_SENT_MS)
    order.castSent('p', 'a', 'n6')
    clock.advance(ORDER_WINDOW_MS - 1)
    expect(order.onward('p', 'a', 'n1', 'n4')).to.equal('n6')
    clock.advance(2)
    expect(order.onward('p', 'a', 'n1', 'n4')).to.equal('n1')
  })

  it('sends a message on down the route a claim\'s waiting messages took when they went on (seed 4186)', () => {
    const { order } = setup()
    // what waited in a claim here went on to n6 (a cast among it)
    order.followed('p', 'a', 'n6', undefined)
    // this node's view names n7 now: the next barrier through here goes down n6 behind them
    expect(order.onward('p', 'a', 'n7', 'n5')).to.equal('n6')
    expect(order.active).to.equal(true)
  })

  it('holds a message behind this node\'s messages to the worker that wait here for its view (seed 4660)', async () => {
    const clock = new ManualClock()
    let waits = true
    let wentOn: () => void = () => {}
    const transport = { call: async () => await new Promise(() => {}) } as unknown as RuntimeTransport
    const order = new SendOrder({
      clock,
      transport,
      self: () => 'me',
      ownersBefore: () => [],
      gone: () => false,
      behindWaiting: () => waits ? new Promise<void>((resolve) => { wentOn = resolve }) : undefined
    })
    // a call sent to n4 came back here, where it waits for this node's view: the next goes behind it
    void order.callSent('p', 'a', 'n4', new Promise(() => {}))
    const held = order.waitFor('p', 'a', undefined, 'n4')
    expect(held).to.not.equal(undefined)
    const sent: string[] = []
    held?.add(() => { sent.push('next') })
    await Promise.resolve()
    expect(sent).to.deep.equal([])
    // what waited went on: the next one follows
    waits = false
    wentOn()
    await new Promise(resolve => setImmediate(resolve))
    expect(sent).to.deep.equal(['next'])
  })

  it('holds a message behind this node\'s own messages still waiting in its old copy of the worker, however long ago its ring moved (seeds 12068, 13742)', async () => {
    const { clock, order, barriers } = setup()
    order.ringChanged()
    clock.advance(ORDER_WINDOW_MS + 1)
    // a copy here that its view no longer names the owner, with a message of this node in
    // its mailbox (it waits in a claim, say): a barrier goes in behind it
    const replies: Array<{ resolve: (v: unknown) => void }> = []
    const copy = { queued: 1 }
    const local = {
      activations: new Map([['a', copy]]),
      deliverTo: (_act: unknown, _slot: unknown, reply: { resolve: (v: unknown) => void }) => { replies.push(reply) }
    } as unknown as LocalPool
    const held = order.waitFor('p', 'a', local, 'n3')
    expect(held).to.not.equal(undefined)
    expect(barriers, 'no barrier over the network').to.deep.equal([])
    expect(replies).to.have.length(1)
    const sent: string[] = []
    held?.add(() => { sent.push('next') })
    await Promise.resolve()
    expect(sent).to.deep.equal([])
    // the barrier reached the head of the mailbox (what was before it went on): the next one goes
    replies[0].resolve(true)
    await new Promise(resolve => setImmediate(resolve))
    expect(sent).to.deep.equal(['next'])
    // nothing waiting there: past the window, nothing is held
    copy.queued = 0
    expect(order.waitFor('p', 'a', local, 'n3')).to.equal(undefined)
  })
})
