import { expect } from 'chai'
import { ManualClock, seededRandom } from '@simplepool/core'
import { Roster } from '../src/witness/roster.js'
import type { RosterMessage, RosterRecord } from '../src/witness/roster-messages.js'

function recordOf (peerId: string, gen = 1): RosterRecord {
  return { peerId, gen, seq: 0, addresses: [`/ip4/127.0.0.1/tcp/1/p2p/${peerId}`], status: 'up', pools: { room: { target: 1 } }, witnesses: [] }
}

/**
 * Rosters on one manual clock, linked as `links` says (both ways), each message delivered
 * 1 ms after it is sent unless `drop` says otherwise.
 */
function rosters (ids: string[], links: Record<string, string[]>, drop: (from: string, to: string, m: RosterMessage) => boolean = () => false): { clock: ManualClock, r: Record<string, Roster>, sent: () => number } {
  const clock = new ManualClock(0)
  const r: Record<string, Roster> = {}
  const peersOf = (id: string): string[] => [...new Set([...(links[id] ?? []), ...Object.keys(links).filter(o => links[o].includes(id))])]
  let sent = 0
  for (const [i, id] of ids.entries()) {
    r[id] = new Roster({
      self: recordOf(id),
      clock,
      random: seededRandom(i + 1),
      peers: () => peersOf(id).filter(p => r[p] !== undefined),
      send: (to, m) => {
        sent++
        if (!drop(id, to, m)) clock.setTimeout(() => { r[to]?.receive(id, m) }, 1)
      }
    }, { pushPullMs: 1_000 })
  }
  return { clock, r, sent: () => sent }
}

const known = (x: Roster): string[] => [...x.members()].map(m => m.peerId).sort()

describe('Roster', function () {
  it('a joiner pulls the whole list from one member, and is synced once the answer is complete', () => {
    const ids = Array.from({ length: 150 }, (_, i) => `n${String(i).padStart(3, '0')}`)
    const { clock, r } = rosters(['j'], {})
    // one member that knows 150 others answers in chunks of 64
    const big = new Roster({ self: recordOf('b'), clock, random: seededRandom(9), peers: () => [], send: (to, m) => { clock.setTimeout(() => { r[to].receive('b', m) }, 1) } })
    for (const id of ids) big.receive('x', { t: 'records', records: [recordOf(id)], answer: true })
    big.answerJoins()
    r.b = big
    let synced = 0
    ;(r.j as unknown as { c: { synced: () => void } }).c.synced = () => { synced++ }
    r.j.join('b')
    clock.advance(5)
    expect(synced).to.equal(1)
    expect(r.j.size).to.equal(152)
  })

  it('a change spreads over the links to members that are not linked to its author, and only newer versions are passed on', () => {
    // a line: a - b - c - d
    const { clock, r } = rosters(['a', 'b', 'c', 'd'], { a: ['b'], b: ['c'], c: ['d'] })
    r.a.update({ status: 'up' })
    clock.advance(10)
    expect(r.d.get('a')?.seq).to.equal(1)
    // the same version again is not news: nothing more is sent
    const before = r.c.counts.sent
    r.c.receive('b', { t: 'records', records: [{ ...recordOf('a'), seq: 1 }] })
    expect(r.c.counts.sent).to.equal(before)
    // an older one is not taken
    r.d.receive('c', { t: 'records', records: [recordOf('a')] })
    expect(r.d.get('a')?.seq).to.equal(1)
  })

  it('anti-entropy finds a change every push of which was lost', () => {
    let lose = true
    const { clock, r } = rosters(['a', 'b', 'c'], { a: ['b', 'c'], b: ['c'] }, (_from, _to, m) => lose && m.t === 'records')
    r.a.update({ status: 'draining' })
    clock.advance(10)
    expect(r.b.get('a')).to.equal(undefined)
    lose = false
    for (const x of Object.values(r)) x.start()
    clock.advance(3_000)
    for (const id of ['b', 'c']) expect(r[id].get('a')?.status, id).to.equal('draining')
  })

  it('anti-entropy pulls both ways: each side gets what only the other held', () => {
    const { clock, r } = rosters(['a', 'b'], { a: ['b'] }, (_f, _t, m) => m.t === 'records' && m.answer !== true)
    r.a.receive('x', { t: 'records', records: [recordOf('p')], answer: true })
    r.b.receive('x', { t: 'records', records: [recordOf('q')], answer: true })
    r.a.start()
    clock.advance(3_000)
    expect(known(r.a)).to.deep.equal(['a', 'b', 'p', 'q'])
    expect(known(r.b)).to.deep.equal(['a', 'b', 'p', 'q'])
  })

  it('a generation that is over stays out: a late copy of its record does not bring the member back, a new generation does', () => {
    const { clock, r } = rosters(['a', 'b'], { a: ['b'] })
    r.a.receive('x', { t: 'records', records: [{ ...recordOf('m'), seq: 4 }], answer: true })
    r.a.bury('m', 1)
    expect(r.a.get('m')).to.equal(undefined)
    expect(r.a.witnessedMembers.has('m')).to.equal(false)
    r.a.receive('x', { t: 'records', records: [{ ...recordOf('m'), seq: 9 }] })
    expect(r.a.get('m')).to.equal(undefined)
    // b still held it: anti-entropy carries the end of it there
    r.b.receive('x', { t: 'records', records: [{ ...recordOf('m'), seq: 4 }], answer: true })
    r.a.start()
    clock.advance(3_000)
    expect(r.b.get('m')).to.equal(undefined)
    // a new generation supersedes the gone record
    r.a.receive('x', { t: 'records', records: [recordOf('m', 2)] })
    expect(r.a.get('m')?.gen).to.equal(2)
    expect(r.a.witnessedMembers.get('m')?.gen).to.equal(2)
  })

  it('a leaving member is gone everywhere the news reaches, and nobody takes a record of its own from others', () => {
    const { clock, r } = rosters(['a', 'b', 'c'], { a: ['b'], b: ['c'] })
    const changes: string[] = []
    ;(r.c as unknown as { c: { changed: (x: RosterRecord) => void } }).c.changed = (x) => { changes.push(`${x.peerId}:${x.gone === true ? 'gone' : x.status}`) }
    r.a.update({ status: 'up' })
    clock.advance(10)
    r.a.update({ status: 'leaving', gone: true })
    clock.advance(10)
    expect(changes).to.deep.equal(['a:up', 'a:gone'])
    expect(r.c.get('a')).to.equal(undefined)
    r.c.receive('b', { t: 'records', records: [{ ...recordOf('c'), seq: 99, status: 'draining' }] })
    expect(r.c.self.status).to.equal('up')
  })

  it('a flood of one change costs each node a message per link, whatever the size of the cluster', () => {
    const n = 200
    const ids = Array.from({ length: n }, (_, i) => `n${i}`)
    // each links to the next three (a ring with chords): about six links each
    const links: Record<string, string[]> = {}
    for (let i = 0; i < n; i++) links[ids[i]] = [1, 2, 3].map(d => ids[(i + d) % n])
    const { clock, r, sent } = rosters(ids, links)
    r.n0.update({ status: 'draining' })
    clock.advance(50)
    for (const id of ids.slice(1)) expect(r[id].get('n0')?.status, id).to.equal('draining')
    expect(sent()).to.be.at.most(n * 6)
  })

  it('a greeting between a member that knows 2,500 and a newcomer: every message within its bounds, both sides whole after', () => {
    const pulls: number[] = []
    const chunks: number[] = []
    const { clock, r } = rosters(['a', 'b'], { a: ['b'] }, (_f, _t, m) => {
      if (m.t === 'pull') pulls.push(m.have.length)
      if (m.t === 'records') chunks.push(m.records.length)
      return false
    })
    for (let i = 0; i < 2_500; i++) r.a.receive('x', { t: 'records', records: [recordOf(`m${i}`)], answer: true })
    r.b.greet('a')
    r.a.greet('b')
    clock.advance(20)
    expect(r.b.size).to.equal(2_502)
    expect(r.a.get('b')).to.not.equal(undefined)
    expect(Math.max(...pulls)).to.be.at.most(1_000)
    expect(pulls.length).to.be.at.least(3)
    expect(Math.max(...chunks)).to.be.at.most(64)
  })

  // Cases a second reader of the code found.

  it('a generation over is kept only as long as told: nobody sends it back to a node that forgot it', () => {
    const { clock, r } = rosters(['a', 'b', 'c'], { a: ['b', 'c'], b: ['c'] })
    for (const x of Object.values(r)) {
      (x as unknown as { o: { goneKeptMs: number } }).o.goneKeptMs = 10_000
      x.receive('x', { t: 'records', records: [{ ...recordOf('m'), seq: 2 }], answer: true })
      x.bury('m', 1)
      x.start()
    }
    clock.advance(60_000)
    const held = (x: Roster): boolean => (x as unknown as { records: Map<string, unknown> }).records.has('m')
    expect(Object.values(r).filter(held)).to.have.length(0)
  })

  it('a join completes with the answer of any peer it asked, however slow; a node without the list yet answers no join', () => {
    const clock = new ManualClock(0)
    const r: Record<string, Roster> = {}
    const make = (id: string, delay: number): Roster => new Roster({ self: recordOf(id), clock, random: seededRandom(1), peers: () => [], send: (to, m) => { clock.setTimeout(() => { r[to].receive(id, m) }, delay) } })
    r.j = make('j', 1)
    r.slow = make('slow', 1_500)
    r.fresh = make('fresh', 1)
    r.slow.answerJoins()
    let synced = 0
    ;(r.j as unknown as { c: { synced: () => void } }).c.synced = () => { synced++ }
    r.j.join('slow')
    clock.advance(1_000)
    // a retry goes to a node that has not synced itself: it stays silent
    r.j.join('fresh')
    clock.advance(2_000)
    expect(synced).to.equal(1)
    expect(r.j.get('slow')).to.not.equal(undefined)
    expect(r.j.get('fresh')).to.equal(undefined)
  })

  it('a member whose own generation is over elsewhere learns it from the first record it sends there', () => {
    const { clock, r } = rosters(['a', 'v'], { a: ['v'] })
    r.a.receive('x', { t: 'records', records: [recordOf('v')], answer: true })
    r.a.bury('v', 1)
    let buried = 0
    ;(r.v as unknown as { c: { buried: () => void } }).c.buried = () => { buried++ }
    r.v.update({ status: 'draining' })
    clock.advance(10)
    expect(buried).to.equal(1)
  })
})
