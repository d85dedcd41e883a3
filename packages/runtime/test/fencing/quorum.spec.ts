import { expect } from 'chai'
import { ManualClock } from '@simplepool/core'
import type { Member } from '@simplepool/core'
import { QuorumLease } from '../../src/fencing/quorum.js'

/** A member of a view: a host of `pool` unless `target` says 0. */
function member (peerId: string, incarnation: number, extra: Partial<Member> = {}, target = 10): Member {
  return { peerId, addresses: [], status: 'up', pools: { pool: { target } }, incarnation, liveness: 'alive', ...extra }
}

/** A lease for node `a` over a view it reads at each look, hearing whom `heard` names (ms ago). */
function leaseOf (view: { members: Member[], heard: Record<string, number>, departed?: Set<string>, markedDown?: Record<string, number>, unknown?: string[] }, clock = new ManualClock()): QuorumLease {
  return new QuorumLease({
    clock,
    self: () => 'a',
    members: () => view.members,
    heardAgo: (peer) => view.heard[peer],
    departed: (peer) => view.departed?.has(peer) ?? false,
    markedDownAgo: (peer) => view.markedDown?.[peer],
    unknown: () => view.unknown ?? [],
    ms: () => 1_000
  })
}

describe('the lease on a majority', () => {
  it('holds while the node hears more than half of the hosts, itself included, within the lease', () => {
    const view = { members: [member('a', 1), member('b', 2), member('c', 3)], heard: { b: 200, c: 300 } as Record<string, number> }
    const lease = leaseOf(view)
    expect(lease.check()).to.equal(undefined)
    // c falls silent past the lease: a and b are still two of three
    view.heard.c = 1_500
    expect(lease.check()).to.equal(undefined)
    // b too: one of three
    view.heard.b = 1_500
    expect(lease.check()).to.equal('lost')
    expect(lease.lost).to.equal(true)
    view.heard.b = 100
    expect(lease.check()).to.equal('regained')
    expect(lease.lost).to.equal(false)
  })

  it('counts a member it never heard, that the others doubt or marked down, in its base, never heard and the oldest (seed 10164)', () => {
    // a joined while e stood still: its view has no e, the others' bases do. Split {a, c, d} | {b, e, f}
    const members = [member('a', 9), member('b', 2), member('c', 3), member('d', 4), member('f', 5)]
    const heard = { c: 100, d: 100, b: 2_000, f: 2_000 }
    // without e, a would hear three of five, and serve beside the other half
    expect(leaseOf({ members, heard }).check()).to.equal(undefined)
    // with e: three of six, and the oldest (e, whose incarnation a cannot know) is not with it
    expect(leaseOf({ members, heard, unknown: ['e'] }).check()).to.equal('lost')
    // a strict majority still holds
    expect(leaseOf({ members, heard: { ...heard, b: 100 }, unknown: ['e'] }).check()).to.equal(undefined)
  })

  it('keeps a member known only by name in a frozen base while a record names it, and lets it go once none does (seed 11252)', () => {
    const members = [member('a', 9), member('b', 2), member('c', 3)]
    const view = { members, heard: { b: 2_000, c: 2_000 } as Record<string, number>, unknown: ['x'] }
    const lease = leaseOf(view)
    expect(lease.check()).to.equal('lost')
    // b heard again, and x still named: two of four, x the oldest, not with a
    view.heard.b = 100
    expect(lease.check()).to.equal(undefined)
    // the record that named x says no more of it (it left, or was heard to go): three of three
    view.unknown = []
    expect(lease.check()).to.equal('regained')
  })

  it('breaks an even split for the half that holds the oldest member, as both halves compute it', () => {
    const members = [member('a', 5), member('b', 1), member('c', 6), member('d', 7)]
    // a hears only c: {a, c} against {b, d}, and b (incarnation 1) is the oldest
    const mine = leaseOf({ members, heard: { c: 100, b: 2_000, d: 2_000 } })
    expect(mine.check()).to.equal('lost')
    // a hears b: {a, b} holds the oldest
    const other = leaseOf({ members, heard: { b: 100, c: 2_000, d: 2_000 } })
    expect(other.check()).to.equal(undefined)
  })

  it('counts every member but a leaving one, clients and joining members too (a target or a join changed on one side of a cut is not seen on the other; seeds 79, 130)', () => {
    const members = [
      member('a', 1), member('b', 2), member('c', 3),
      member('client1', 4, {}, 0), member('client2', 5, {}, 0),
      member('j', 6, { status: 'joining' }), member('l', 7, { status: 'leaving' })
    ]
    // a hears both clients and the joining member (and the leaving one, which does not
    // count), but no host but itself: four of six
    expect(leaseOf({ members, heard: { client1: 10, client2: 10, j: 10, l: 10, b: 5_000, c: 5_000 } }).check()).to.equal(undefined)
    // one client only: two of six
    expect(leaseOf({ members, heard: { client1: 10, l: 10, b: 5_000, c: 5_000 } }).check()).to.equal('lost')
  })

  it('keeps a member marked down in the base until it is known gone, and the base it had once lost', () => {
    const view = { members: [member('a', 1), member('b', 2), member('c', 3), member('d', 4), member('e', 5)], heard: { b: 100, c: 100, d: 100, e: 100 } as Record<string, number>, departed: new Set<string>() }
    const lease = leaseOf(view)
    // d and e fall silent and are marked down: a, b and c are three of the five
    view.heard.d = view.heard.e = 3_000
    view.members = view.members.map(m => m.peerId === 'd' || m.peerId === 'e' ? { ...m, liveness: 'down' } : m)
    expect(lease.check()).to.equal(undefined)
    // then c too: two of five, lost (two of three, had d and e left the base)
    view.heard.c = 1_500
    expect(lease.check()).to.equal('lost')
    // d refuses a redial: known gone, it leaves the frozen base; two of four, with the oldest (a)
    view.departed.add('d')
    expect(lease.check()).to.equal('regained')
    // this node's view forgets e: the base it holds on now is {a, b, c}
    view.members = view.members.filter(m => m.peerId !== 'e')
    view.heard.b = 1_500
    expect(lease.check()).to.equal('lost')
    // b is heard again: two of the frozen three
    view.heard.b = 100
    expect(lease.check()).to.equal('regained')
  })

  it('keeps a member marked down in the base until a majority with it was heard since (seed 280: halves of three, each holding)', () => {
    // d is the oldest; a, b, c on one side of a cut, d, e, f on the other
    const view = {
      members: [member('a', 4), member('b', 5), member('c', 6), member('d', 1), member('e', 2), member('f', 3)],
      heard: { b: 100, c: 100, d: 100, e: 100, f: 100 } as Record<string, number>,
      markedDown: {} as Record<string, number>
    }
    const lease = leaseOf(view)
    expect(lease.check()).to.equal(undefined)
    // f fell silent earlier: a marks it down while d and e, cut a moment ago, still count as heard
    view.members = view.members.map(m => m.peerId === 'f' ? { ...m, liveness: 'down' } : m)
    view.heard = { b: 50, c: 50, d: 600, e: 600, f: 2_000 }
    view.markedDown = { f: 0 }
    expect(lease.check()).to.equal(undefined)
    // past the lease, a hears b and c since: three of the six, without the oldest. Had f
    // left the base, three of five would hold here while d, e and f hold on the other side
    view.heard = { b: 50, c: 50, d: 1_100, e: 1_100, f: 2_500 }
    view.markedDown = { f: 500 }
    expect(lease.check()).to.equal('lost')
  })

  it('keeps a member marked down on this side in the base when it is heard again on the other (seed 65)', () => {
    // a and b on one side of a cut, c, d and e on the other; e was cut off alone before, and
    // this side marked it down; the other side hears it again
    const view = {
      members: [member('a', 1), member('b', 2), member('c', 3), member('d', 4), member('e', 5, { liveness: 'down' })],
      heard: { b: 100, c: 1_500, d: 1_500, e: 5_000 } as Record<string, number>
    }
    // two of five: lost (two of four, with the oldest, had e left the base: a tie it would hold
    // while c, d and e hold three of five)
    expect(leaseOf(view).check()).to.equal('lost')
  })

  it('lets a member that left gracefully out of a frozen base: nobody waits for it', () => {
    const view = { members: [member('a', 1), member('b', 2), member('c', 3)], heard: { b: 2_000, c: 2_000 } as Record<string, number>, departed: new Set<string>() }
    const lease = leaseOf(view)
    expect(lease.check()).to.equal('lost')
    // c said goodbye and is gone from the view; b is heard again: two of {a, b}
    view.departed.add('c')
    view.members = view.members.filter(m => m.peerId !== 'c')
    view.heard.b = 100
    expect(lease.check()).to.equal('regained')
  })

  it('does not count a member whose record doubts this node, nor one this view marked down', () => {
    const members = [member('a', 1), member('b', 2, { liveness: 'down' }), member('c', 3)]
    // b is down (and so not in the base): {a, c}, and c is heard: two of two
    expect(leaseOf({ members, heard: { b: 10, c: 10 } }).check()).to.equal(undefined)
    // c's last record doubts a (heardAgo says never): one of two, and the oldest is a itself
    expect(leaseOf({ members: [member('a', 9), member('c', 3)], heard: {} }).check()).to.equal('lost')
  })

  it('gives a beat that came late no grace: a member silent past the lease does not count (seed 381: a pause inside a cut served past the others\' deadline)', () => {
    const clock = new ManualClock()
    const view = { members: [member('a', 1), member('b', 2), member('c', 3)], heard: { b: 1_100, c: 1_100 } as Record<string, number> }
    const lease = leaseOf(view, clock)
    const fence = { active: false, isolated: 0, rejoinedWith: [] as boolean[], isolate () { this.isolated++ }, rejoined (a: boolean) { this.rejoinedWith.push(a) } }
    lease.beat(fence)
    expect(fence.isolated).to.equal(1)
    // the records kept meanwhile are read: it holds again
    view.heard.b = 50
    lease.beat(fence)
    expect(fence.rejoinedWith).to.deep.equal([false])
  })
})
