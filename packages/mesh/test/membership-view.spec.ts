import { expect } from 'chai'
import { ManualClock, peerTag } from '@simplepool/core'
import type { MemberRecord } from '@simplepool/core'
import { MembershipView } from '../src/index.js'

const TIMINGS = { suspectAfterMs: 1_000, downAfterMs: 2_000, forgetAfterMs: 60_000 }

function record (peerId: string, patch: Partial<MemberRecord> = {}): MemberRecord {
  return { peerId, addresses: [`/ip4/127.0.0.1/tcp/1/p2p/${peerId}`], status: 'up', pools: { room: { target: 100, count: 0 } }, incarnation: 1, seq: 1, load: 0, heartbeatMs: 500, epoch: 0, ...patch }
}

function setup (): { clock: ManualClock, view: MembershipView, events: string[] } {
  const clock = new ManualClock()
  const view = new MembershipView(record('self'), clock, TIMINGS)
  const events: string[] = []
  for (const t of ['member:join', 'member:update', 'member:leave', 'member:down'] as const) {
    view.addEventListener(t, (evt) => { events.push(`${t} ${evt.detail.peerId}`) })
  }
  return { clock, view, events }
}

describe('MembershipView', () => {
  it('a new record joins; the snapshot is sorted, frozen and versioned', () => {
    const { view, events } = setup()
    const v0 = view.snapshot()
    view.onRecord(record('b'))
    view.onRecord(record('a'))
    const s = view.snapshot()
    expect(events).to.deep.equal(['member:join b', 'member:join a'])
    expect(s.members.map(m => m.peerId)).to.deep.equal(['a', 'b', 'self'])
    expect(s.version).to.be.greaterThan(v0.version)
    expect(Object.isFrozen(s.members)).to.equal(true)
    expect(Object.isFrozen(s.members[0])).to.equal(true)
    // the old snapshot is untouched
    expect(v0.members.map(m => m.peerId)).to.deep.equal(['self'])
  })

  it('raises the epoch mark by every fresh record, never by a stale one', () => {
    const clock = new ManualClock()
    let mark = 0
    const epochs = { last: () => mark, observe: (e: number) => { mark = Math.max(mark, e) } }
    const view = new MembershipView(record('self'), clock, { ...TIMINGS, epochs })
    view.onRecord(record('a', { seq: 2, epoch: 500 }))
    expect(mark).to.equal(500)
    // an older record of the same member carries nothing new
    view.onRecord(record('a', { seq: 1, epoch: 900 }))
    expect(mark).to.equal(500)
    view.onRecord(record('b', { epoch: 700 }))
    expect(mark).to.equal(700)
  })

  it('a heartbeat that changes only counts and load keeps the version; figures move', () => {
    const { view, events } = setup()
    view.onRecord(record('a'))
    const v = view.snapshot().version
    view.onRecord(record('a', { seq: 2, load: 0.5, pools: { room: { target: 100, count: 42 } } }))
    expect(view.snapshot().version).to.equal(v)
    expect(view.figures('a')).to.deep.include({ load: 0.5, seq: 2 })
    expect(view.figures('a')?.counts).to.deep.equal({ room: 42 })
    expect(events).to.deep.equal(['member:join a'])
  })

  it('a target change is an update with a new version', () => {
    const { view, events } = setup()
    view.onRecord(record('a'))
    const v = view.snapshot().version
    view.onRecord(record('a', { seq: 2, pools: { room: { target: 300, count: 0 } } }))
    expect(view.snapshot().version).to.equal(v + 1)
    expect(view.get('a')?.pools.room.target).to.equal(300)
    expect(events).to.deep.equal(['member:join a', 'member:update a'])
  })

  it('stale records are ignored: an older seq, or an older incarnation', () => {
    const { view } = setup()
    view.onRecord(record('a', { seq: 5, pools: { room: { target: 1, count: 0 } } }))
    view.onRecord(record('a', { seq: 4, pools: { room: { target: 2, count: 0 } } }))
    expect(view.get('a')?.pools.room.target).to.equal(1)
    view.onRecord(record('a', { incarnation: 2, seq: 1, pools: { room: { target: 3, count: 0 } } }))
    expect(view.get('a')?.pools.room.target).to.equal(3)
    view.onRecord(record('a', { incarnation: 1, seq: 99, pools: { room: { target: 4, count: 0 } } }))
    expect(view.get('a')?.pools.room.target).to.equal(3)
  })

  it('silence makes a member suspect, then down; a fresh record brings it back as a join', () => {
    const { clock, view, events } = setup()
    // younger than this node: of two, it is not the half that keeps serving
    view.onRecord(record('a', { incarnation: 5 }))
    for (let t = 0; t < 1_100; t += 100) { clock.advance(100); view.sweep() }
    expect(view.get('a')?.liveness).to.equal('suspect')
    for (let t = 0; t < 1_000; t += 100) { clock.advance(100); view.sweep() }
    expect(view.get('a')?.liveness).to.equal('down')
    view.onRecord(record('a', { incarnation: 5, seq: 2 }))
    expect(view.get('a')?.liveness).to.equal('alive')
    expect(events).to.deep.equal(['member:join a', 'member:update a', 'member:down a', 'member:join a'])
  })

  it('keeps a silent host suspect, not down, while hosts that do not doubt it may give it a lease (a link cut between two nodes that both hear the rest; seed 381)', () => {
    const { clock, view, events } = setup()
    view.onRecord(record('a'))
    view.onRecord(record('b'))
    view.onRecord(record('c'))
    const doubts: Record<string, string[]> = { b: [], c: [] }
    const step = (ms: number): void => {
      for (let t = 0; t < ms; t += 100) {
        clock.advance(100)
        // b and c go on being heard; a is silent here only
        for (const p of ['b', 'c']) view.onRecord(record(p, { seq: clock.monotonic(), doubts: doubts[p] }))
        view.sweep()
      }
    }
    step(3_000)
    // a, b and c: three of four hosts may hear each other
    expect(view.get('a')?.liveness).to.equal('suspect')
    // b doubts a too: a and c, two of four with the oldest (a, the smallest id): the half that may serve
    doubts.b = ['a']
    step(100)
    expect(view.get('a')?.liveness).to.equal('suspect')
    // and c: a alone cannot hold a lease; but c's doubt left it a suspicion deadline after
    // c last heard a, and a may count c for a lease more: down once that has passed
    doubts.c = ['a']
    step(100)
    expect(view.get('a')?.liveness).to.equal('suspect')
    step(1_000)
    expect(view.get('a')?.liveness).to.equal('down')
    expect(events.filter(e => e.startsWith('member:down'))).to.deep.equal(['member:down a'])
  })

  it('keeps in a silent host\'s base the members this view marked down, counting them by their last records (seed 65)', () => {
    // a and b fall silent here; b's last record hears a, and c hears a throughout; d, the
    // oldest, does not
    const { clock, view } = setup()
    view.onRecord(record('a', { hears: [] }))
    view.onRecord(record('b', { hears: [peerTag('a')] }))
    const others = (): void => {
      view.onRecord(record('c', { seq: clock.monotonic(), hears: [peerTag('a')] }))
      view.onRecord(record('d', { seq: clock.monotonic(), incarnation: 0, hears: [] }))
    }
    others()
    for (let t = 0; t < 4_000; t += 100) {
      clock.advance(100)
      others()
      view.sweep()
    }
    // nobody vouches for b: down. a stays suspect: a, b (by its last record) and c are three
    // of five, a lease a may hold. Had b left a's base once marked down, a and c would be two
    // of four without the oldest, and a marked down while it may be serving
    expect(view.get('b')?.liveness).to.equal('down')
    expect(view.get('a')?.liveness).to.equal('suspect')
  })

  it('leaves a host that joined after a member fell silent out of that member\'s base (seed 161289)', () => {
    // this node is leaving (it counts toward no majority); a was the only member that
    // counts when it fell silent; c joined after
    const clock = new ManualClock()
    const view = new MembershipView(record('self', { status: 'leaving' }), clock, TIMINGS)
    view.onRecord(record('a'))
    for (let t = 0; t < 2_100; t += 100) {
      clock.advance(100)
      if (t === 500) view.onRecord(record('c', { incarnation: 9, hears: [peerTag('self')] }))
      if (t > 500) view.onRecord(record('c', { incarnation: 9, seq: clock.monotonic(), hears: [peerTag('self')] }))
      view.sweep()
    }
    // with c in a's base, a (the older of two) would keep the tie; a alone is the only member left
    expect(view.get('a')?.liveness).to.equal('down')
  })

  it('keeps a host that joined after a member fell silent in its base when it hears that member (seed 4370)', () => {
    // a is cut off one way: it cannot send to this node or b, and hears everyone; c joins
    // meanwhile, hears a, and a hears c: a and c are two of four with the oldest (a), a lease
    const { clock, view } = setup()
    view.onRecord(record('a'))
    view.onRecord(record('b', { hears: [peerTag('a'), peerTag('self')] }))
    for (let t = 0; t < 2_500; t += 100) {
      clock.advance(100)
      const seq = clock.monotonic()
      view.onRecord(record('b', { seq, hears: [peerTag('self')], ...(t >= 1_000 ? { doubts: ['a'] } : {}) }))
      if (t >= 500) view.onRecord(record('c', { incarnation: 9, seq, hears: [peerTag('a'), peerTag('b'), peerTag('self')] }))
      view.sweep()
    }
    expect(view.get('a')?.liveness).to.equal('suspect')
    // c stops hearing a: a alone of four, no lease
    for (let t = 0; t < 1_100; t += 100) {
      clock.advance(100)
      const seq = clock.monotonic()
      view.onRecord(record('b', { seq, hears: [peerTag('self')], doubts: ['a'] }))
      view.onRecord(record('c', { incarnation: 9, seq, hears: [peerTag('b'), peerTag('self')], doubts: ['a'] }))
      view.sweep()
    }
    expect(view.get('a')?.liveness).to.equal('down')
  })

  it('takes no vouch for a silent host from a member that does not hear it (seed 160844)', () => {
    const { clock, view } = setup()
    view.onRecord(record('a'))
    view.onRecord(record('b', { hears: [peerTag('a'), peerTag('self')] }))
    const step = (ms: number, extra?: () => void): void => {
      for (let t = 0; t < ms; t += 100) {
        clock.advance(100)
        // b still hears a; c, which joined after a fell silent, never heard of it
        view.onRecord(record('b', { seq: clock.monotonic(), hears: [peerTag('a'), peerTag('self')] }))
        extra?.()
        view.sweep()
      }
    }
    step(1_500)
    // c joins: it hears b and this node, not a (and so does not doubt it)
    const c = (): void => { view.onRecord(record('c', { seq: clock.monotonic(), hears: [peerTag('b'), peerTag('self')] })) }
    step(1_500, c)
    // a and b: two of four would be a tie with the oldest (a); but c is in no base a knows of: two of three
    expect(view.get('a')?.liveness).to.equal('suspect')
    // b stops hearing a (without doubting it yet): a alone, once a lease has passed
    view.onRecord(record('b', { seq: clock.monotonic() + 50, hears: [peerTag('self')] }))
    for (let t = 0; t < 1_100; t += 100) {
      clock.advance(100)
      c()
      view.sweep()
    }
    expect(view.get('a')?.liveness).to.equal('down')
  })

  it('counts a member this view no longer hears as one that may vouch for a silent host, whatever its last record said (seed 19438)', () => {
    // a (not the oldest) falls silent here; b's last record doubts a, and then b falls
    // silent too; c goes on hearing a. On a's side of a cut b may hear a again by now
    const { clock, view } = setup()
    view.onRecord(record('a', { incarnation: 5 }))
    view.onRecord(record('b', { doubts: ['a'] }))
    const step = (ms: number, b: boolean): void => {
      for (let t = 0; t < ms; t += 100) {
        clock.advance(100)
        const seq = clock.monotonic()
        view.onRecord(record('c', { seq, hears: [peerTag('a'), peerTag('self')] }))
        if (b) view.onRecord(record('b', { seq, hears: [peerTag('c'), peerTag('self')], doubts: ['a'] }))
        view.sweep()
      }
    }
    step(3_000, false)
    // a, b (unheard) and c: three of four. Taken by its last record, b would leave a and c,
    // two of four without the oldest, and a marked down while it may serve
    expect(view.get('b')?.liveness).to.not.equal('alive')
    expect(view.get('a')?.liveness).to.equal('suspect')
    // b is heard again, and doubts a: a and c, no lease
    step(1_100, true)
    expect(view.get('a')?.liveness).to.equal('down')
  })

  it('marks a silent client down once the others doubt it too: it holds no workers, and no lease keeps it', () => {
    const { clock, view } = setup()
    view.onRecord(record('x', { pools: { room: { target: 0, count: 0 } } }))
    view.onRecord(record('b'))
    for (let t = 0; t < 2_100; t += 100) {
      clock.advance(100)
      view.onRecord(record('b', { seq: clock.monotonic(), hears: [peerTag('self')], doubts: clock.monotonic() > 1_000 ? ['x'] : [] }))
      view.sweep()
    }
    expect(view.get('x')?.liveness).to.equal('down')
  })

  it('keeps a silent client suspect while a majority may hear it: a node whose link flaps hears no one, and blames no one', () => {
    const { clock, view } = setup()
    view.onRecord(record('x', { pools: { room: { target: 0, count: 0 } } }))
    view.onRecord(record('b'))
    view.onRecord(record('c'))
    // nothing arrives for 3 s: every member past its down deadline, each vouched for by the others unheard
    for (let t = 0; t < 3_000; t += 100) {
      clock.advance(100)
      view.sweep()
    }
    expect(['x', 'b', 'c'].map(p => view.get(p)?.liveness)).to.deep.equal(['suspect', 'suspect', 'suspect'])
    // b and c come back, still hearing x: it stays suspect here until its own records get through
    for (let t = 0; t < 1_500; t += 100) {
      clock.advance(100)
      const seq = clock.monotonic()
      for (const p of ['b', 'c']) view.onRecord(record(p, { seq, hears: [peerTag('x'), peerTag('self')] }))
      view.sweep()
    }
    expect(view.get('x')?.liveness).to.equal('suspect')
    view.onRecord(record('x', { seq: 2, pools: { room: { target: 0, count: 0 } } }))
    expect(view.get('x')?.liveness).to.equal('alive')
  })

  it("judges a member's silence by the heartbeat it announced, when that is longer", () => {
    const { clock, view } = setup()
    view.onRecord(record('slow', { heartbeatMs: 2_500 }))
    const step = (ms: number): void => { for (let t = 0; t < ms; t += 100) { clock.advance(100); view.sweep() } }
    step(4_900) // past our own 2 s: a member on the default heartbeat would be down by now
    expect(view.get('slow')?.liveness).to.equal('alive')
    step(200) // past two of its 2.5 s heartbeats
    expect(view.get('slow')?.liveness).to.equal('suspect')
    step(5_000) // past four
    expect(view.get('slow')?.liveness).to.equal('down')
  })

  it('keeps every deadline while its sweeps skip the walk: a shorter interval announced, a member heard anew', () => {
    const { clock, view } = setup()
    const step = (ms: number): void => { for (let t = 0; t < ms; t += 100) { clock.advance(100); view.sweep() } }
    view.onRecord(record('slow', { heartbeatMs: 2_500 }))
    step(500)
    // it now announces the default interval: two of those without a record make it suspect
    view.onRecord(record('slow', { seq: 2, heartbeatMs: 500 }))
    step(1_100)
    expect(view.get('slow')?.liveness).to.equal('suspect')
    // a member first heard now is judged from now
    view.onRecord(record('c'))
    step(1_100)
    expect(view.get('c')?.liveness).to.equal('suspect')
  })

  it('a closed connection makes a member suspect at once; a failed redial makes it down', () => {
    const { view, events } = setup()
    view.onRecord(record('a'))
    view.onDisconnect('a')
    expect(view.get('a')?.liveness).to.equal('suspect')
    view.onUnreachable('a')
    expect(view.get('a')?.liveness).to.equal('down')
    // records relayed by others do not revive a member we cannot reach
    view.onRecord(record('a', { seq: 2 }))
    expect(view.get('a')?.liveness).to.equal('down')
    // a new connection does, with the next record
    view.onConnect('a')
    view.onRecord(record('a', { seq: 3 }))
    expect(view.get('a')?.liveness).to.equal('alive')
    expect(events).to.deep.equal(['member:join a', 'member:update a', 'member:down a', 'member:join a'])
  })

  it('a member that announces leaving fires member:leave and is forgotten when its connection closes', () => {
    const { view, events } = setup()
    view.onRecord(record('a'))
    view.onRecord(record('a', { seq: 2, status: 'leaving' }))
    view.onDisconnect('a')
    expect(view.get('a')).to.equal(undefined)
    expect(events).to.deep.equal(['member:join a', 'member:leave a'])
  })

  it('a late record of a member that left and was forgotten does not bring it back', () => {
    const { view } = setup()
    view.onRecord(record('a', { seq: 5 }))
    view.onRecord(record('a', { seq: 6, status: 'leaving' }))
    view.onDisconnect('a')
    view.onRecord(record('a', { seq: 5 }))
    expect(view.get('a')).to.equal(undefined)
    // a restart (new incarnation) does come back
    view.onRecord(record('a', { incarnation: 2, seq: 1 }))
    expect(view.get('a')?.liveness).to.equal('alive')
  })

  it('a member that said leaving and then up again joins again', () => {
    const { view, events } = setup()
    view.onRecord(record('a'))
    view.onRecord(record('a', { seq: 2, status: 'leaving' }))
    view.onRecord(record('a', { seq: 3, status: 'up' }))
    expect(events).to.deep.equal(['member:join a', 'member:leave a', 'member:join a'])
  })

  it('a long gap between sweeps is our own pause: nobody is marked down for it', () => {
    const { clock, view, events } = setup()
    view.onRecord(record('a'))
    view.sweep()
    clock.advance(10_000)
    view.sweep()
    expect(view.get('a')?.liveness).to.equal('alive')
    expect(events).to.deep.equal(['member:join a'])
  })

  it('down members are forgotten after forgetAfterMs', () => {
    const { clock, view } = setup()
    view.onRecord(record('a'))
    view.onDisconnect('a')
    view.onUnreachable('a')
    for (let t = 0; t < 61_000; t += 500) { clock.advance(500); view.sweep() }
    expect(view.get('a')).to.equal(undefined)
  })

  it('names a member never heard here that others doubt and did not mark down, until it is heard or marked down by all', () => {
    const { view } = setup()
    // x stood still before this node joined: a and b suspect it
    view.onRecord(record('a', { doubts: ['x'] }))
    view.onRecord(record('b', { doubts: ['x'] }))
    expect(view.unheard()).to.deep.equal(['x'])
    expect(view.unknown()).to.deep.equal(['x'])
    // a marked it down; b still only suspects it: it may still hold its lease on b's side
    view.onRecord(record('a', { seq: 2, doubts: ['x'], downs: ['x'] }))
    expect(view.unheard()).to.deep.equal(['x'])
    view.onRecord(record('b', { seq: 2, doubts: ['x'], downs: ['x'] }))
    expect(view.unheard()).to.deep.equal([])
    // marked down by all, it still counts in their bases until they forget it (seed 10164)
    expect(view.unknown()).to.deep.equal(['x'])
    // heard at last: a member like any other, whatever the others say of it
    view.onRecord(record('b', { seq: 3, doubts: ['y'] }))
    expect(view.unheard()).to.deep.equal(['y'])
    view.onRecord(record('y'))
    expect(view.unheard()).to.deep.equal([])
    // y is heard; x is still in a's record, marked down there
    expect(view.unknown()).to.deep.equal(['x'])
    // until a knows it gone (a redial refused): it left a's base
    view.onRecord(record('a', { seq: 4, doubts: ['x'], downs: ['x'], gone: ['x'] }))
    expect(view.unknown()).to.deep.equal([])
    // nobody doubts itself, nor this node into the list
    view.onRecord(record('a', { seq: 3, doubts: ['self'] }))
    expect(view.unheard()).to.deep.equal([])
  })

  it('ignores records claiming to be this node', () => {
    const { view, events } = setup()
    view.onRecord(record('self', { seq: 100, status: 'leaving' }))
    expect(view.get('self')?.status).to.equal('up')
    expect(events).to.deep.equal([])
  })
})
