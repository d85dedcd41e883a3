import { expect } from 'chai'
import { ManualClock, RECONNECT_BACKOFF_MS, STALE_DIALS_WHILE_ALIVE } from '@simplepool/core'
import type { Connection } from '@libp2p/interface'
import { Connections } from '../src/connections.js'
import type { Host } from '../src/host.js'

/** A peer id libp2p parses (any will do: the host below is a fake that keeps connections in a list). */
const PEER = '12D3KooWMSCVmQjjUS6whmw6QuMcmJiZdBJVczjiDTwHiGCuAg3D'

interface FakeConnection { id: string, status: string, timeline: { open: number }, remotePeer: { toString: () => string }, aborted: boolean, abort: () => void }

/** A host reduced to what `Connections` reads: the open connections to a peer, `connection:open` and `connection:close`. */
function fakeHost (): { host: Host, open: (id: string, at: number) => FakeConnection } {
  const conns: FakeConnection[] = []
  const listeners = new Map<string, Array<(evt: { detail: Connection }) => void>>()
  const emit = (type: string, c: FakeConnection): void => { for (const fn of listeners.get(type) ?? []) fn({ detail: c as unknown as Connection }) }
  const host = {
    getConnections: () => conns.filter(c => c.status === 'open') as unknown as Connection[],
    addEventListener: (type: string, fn: (evt: { detail: Connection }) => void) => { listeners.set(type, [...(listeners.get(type) ?? []), fn]) }
  } as unknown as Host
  const open = (id: string, at: number): FakeConnection => {
    const c: FakeConnection = {
      id,
      status: 'open',
      timeline: { open: at },
      remotePeer: { toString: () => PEER },
      aborted: false,
      abort () { this.aborted = true; this.status = 'closed'; emit('connection:close', this) }
    }
    conns.push(c)
    emit('connection:open', c)
    return c
  }
  return { host, open }
}

describe('Connections', () => {
  it('opens streams on the newest connection', () => {
    const { host, open } = fakeHost()
    const connections = new Connections(host, new ManualClock())
    open('a', 1)
    open('b', 2)
    expect(connections.newestOpen(PEER)?.id).to.equal('b')
  })

  it('holds the connections open when a peer is marked down stale: no streams on them, a dial makes a new one, which resets them', () => {
    const { host, open } = fakeHost()
    const connections = new Connections(host, new ManualClock())
    const old = open('old', 1)
    connections.markedDown(PEER)
    expect(connections.newestOpen(PEER), 'no stream on a stale connection').to.equal(undefined)
    expect(connections.hasStale(PEER), 'a dial must be forced past it').to.equal(true)
    expect(connections.isStale(PEER, old as unknown as Connection)).to.equal(true)
    const fresh = open('fresh', 2)
    expect(old.aborted, 'the stale one is reset once a new one opens').to.equal(true)
    expect(fresh.aborted).to.equal(false)
    expect(connections.newestOpen(PEER)?.id).to.equal('fresh')
    expect(connections.hasStale(PEER)).to.equal(false)
    expect(connections.isStale(PEER, fresh as unknown as Connection)).to.equal(false)
  })

  it('gives stale connections back to a peer it cannot dial once it is heard again: slow rather than none', () => {
    const clock = new ManualClock()
    const { host, open } = fakeHost()
    const connections = new Connections(host, clock)
    open('old', 1)
    connections.markedDown(PEER)
    // dials during the cut, the peer not heard: they prove nothing
    for (let i = 0; i < STALE_DIALS_WHILE_ALIVE + 2; i++) connections.dialFailed(PEER, false)
    expect(connections.hasStale(PEER)).to.equal(true)
    // heard again: calls that each dialled at once count as one
    for (let i = 0; i < STALE_DIALS_WHILE_ALIVE + 2; i++) connections.dialFailed(PEER, true)
    expect(connections.hasStale(PEER)).to.equal(true)
    // and still not dialled, a second apart
    for (let i = 1; i < STALE_DIALS_WHILE_ALIVE - 1; i++) {
      clock.advance(RECONNECT_BACKOFF_MS)
      connections.dialFailed(PEER, true)
    }
    expect(connections.hasStale(PEER)).to.equal(true)
    clock.advance(RECONNECT_BACKOFF_MS)
    connections.dialFailed(PEER, true)
    expect(connections.hasStale(PEER)).to.equal(false)
    expect(connections.newestOpen(PEER)?.id).to.equal('old')
  })

  it('marks nothing stale for a peer with no connection (a killed process), and reads a bad peer id as none', () => {
    const { host } = fakeHost()
    const connections = new Connections(host, new ManualClock())
    connections.markedDown(PEER)
    expect(connections.hasStale(PEER)).to.equal(false)
    expect(connections.newestOpen('not a peer id')).to.equal(undefined)
  })
})
