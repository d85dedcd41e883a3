import { expect } from 'chai'
import { ManualClock, ORDER_WINDOW_MS } from '@simplepool/core'
import { SendOrder } from '../../src/routing/send-order.js'
import type { RuntimeTransport } from '../../src/runtime-types.js'

/** A SendOrder whose barriers are recorded (and never answered), with the owners before given by the test. */
function setup (): { clock: ManualClock, order: SendOrder, barriers: string[], before: { owners: string[] } } {
  const clock = new ManualClock()
  const barriers: string[] = []
  const before = { owners: [] as string[] }
  const transport = {
    call: async (peer: string) => {
      barriers.push(peer)
      return await new Promise(() => {})
    }
  } as unknown as RuntimeTransport
  const order = new SendOrder({ clock, transport, self: () => 'me', ownersBefore: () => before.owners, gone: () => false })
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
    clock.advance(ORDER_WINDOW_MS + 1)
    expect(order.waitFor('p', 'a', undefined, 'n3')).to.equal(undefined)
    expect(barriers).to.deep.equal(['n6'])
  })
})
