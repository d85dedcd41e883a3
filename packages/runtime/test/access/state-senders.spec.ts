import { expect } from 'chai'
import type { Member } from '@simplepool/core'
import { Placement } from '@simplepool/ring'
import { StateSenders } from '../../src/access/state-senders.js'

const member = (peerId: string, target: number): Member => ({ peerId, addresses: [], status: 'up', pools: { rooms: { target } }, incarnation: 1, liveness: 'alive' })

describe('StateSenders', () => {
  const members = [member('host', 100), member('client', 0), member('drained', 0)]
  const counts: Record<string, number> = { drained: 12 }
  let lately: string[] = []
  const senders = new StateSenders({
    self: () => 'me',
    members: () => members,
    countOf: (peer) => counts[peer] ?? 0,
    placement: () => Placement.fromSnapshot({ version: 1, self: 'me', members }),
    wasOnRing: (_pool, peer) => lately.includes(peer)
  })

  it('takes state from a member on the ring, one that reports workers of the pool, and itself', () => {
    expect(senders.couldHold('host', 'rooms')).to.equal(true)
    expect(senders.couldHold('drained', 'rooms'), 'its last workers, off the ring').to.equal(true)
    expect(senders.couldHold('me', 'rooms')).to.equal(true)
  })

  it('refuses it from a member that never held the pool, and from one it does not know', () => {
    expect(senders.couldHold('client', 'rooms')).to.equal(false)
    expect(senders.couldHold('client', 'users'), 'a pool it does not list').to.equal(false)
    expect(senders.couldHold('stranger', 'rooms')).to.equal(false)
  })

  it('takes it from a member that was on the ring within the claim window', () => {
    lately = ['client']
    expect(senders.couldHold('client', 'rooms')).to.equal(true)
    lately = []
  })
})
