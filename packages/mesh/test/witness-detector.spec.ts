import { expect } from 'chai'
import { ManualClock } from '@simplepool/core'
import { WitnessDetector } from '../src/witness/witness-detector.js'
import type { WitnessMessage } from '../src/witness/witness-messages.js'
import type { WitnessedMember } from '../src/witness/witness-options.js'

/**
 * Small clusters of witness detectors on one manual clock, each message delivered 1 ms
 * after it is sent unless `drop` says otherwise: scenarios written out step by step, where
 * the membership model draws them at random. Each case here was an execution a reader of
 * the code found that broke a rule.
 */
function cluster (names: Record<string, string[]>, drop: (from: string, to: string) => boolean = () => false): { clock: ManualClock, det: Record<string, WitnessDetector>, heldDown: Set<string> } {
  const clock = new ManualClock(0)
  const members = new Map<string, WitnessedMember>(Object.entries(names).map(([id, w], i) => [id, { gen: i + 1, witnesses: w }]))
  const det: Record<string, WitnessDetector> = {}
  const heldDown = new Set<string>()
  for (const id of Object.keys(names)) {
    const links = [...new Set([...names[id], ...Object.keys(names).filter(o => names[o].includes(id))])]
    det[id] = new WitnessDetector({
      self: id,
      clock,
      members,
      links,
      send: (to: string, m: WitnessMessage) => { if (!drop(id, to)) clock.setTimeout(() => { det[to].receive(id, m) }, 1) },
      heldDown: () => { heldDown.add(id) }
    })
  }
  for (const [i, id] of Object.keys(names).entries()) clock.setTimeout(() => { det[id].start() }, 37 * i)
  return { clock, det, heldDown }
}

/** Advances `clock` until `done`, 1 ms at a time, for at most `ms`; whether it came. */
function until (clock: ManualClock, done: () => boolean, ms: number): boolean {
  for (let i = 0; i < ms; i++) {
    if (done()) return true
    clock.advance(1)
  }
  return done()
}

/** Whether `who` knows X's witness list of epoch 1 (X proposed it, or entered it). */
function heardOf (det: Record<string, WitnessDetector>, who: string): boolean {
  return (det[who] as unknown as { news: Map<string, { listOf: (e: number) => unknown }> }).news.get('X')?.listOf(1) !== undefined
}

/** The proposal a node has made and not entered, seen from outside (the model reads no more than this). */
function proposed (d: WitnessDetector): { epoch: number, witnesses: readonly string[] } | undefined {
  return (d as unknown as { proposal?: { epoch: number, witnesses: readonly string[] } }).proposal
}

describe('WitnessDetector', function () {
  it('a proposal superseded by another still binds: its witnesses, cut off, may hold the member down only once it has no lease', () => {
    // K = 2. X names {a, b}; a, c and O watch each other, so they keep their own leases when cut off together
    let partitioned = false
    const side = new Set(['a', 'c', 'O'])
    const { clock, det } = cluster({ X: ['a', 'b'], a: ['c', 'O'], c: ['a', 'O'], O: ['a', 'c'], b: ['d', 'X'], d: ['b', 'X'] },
      (from, to) => partitioned && side.has(from) !== side.has(to))
    clock.advance(3_000)
    // a join: X means to name c instead of b, and proposes so once a and c echo it
    det.X.setWitnesses(['a', 'c'])
    expect(until(clock, () => heardOf(det, 'a') && heardOf(det, 'c'), 3_000)).to.equal(true)
    // {a, c, O} are cut off from the rest, and X, told again, proposes {b, d} before b's promise of epoch 1 comes
    partitioned = true
    det.X.setWitnesses(['b', 'd'])
    for (let t = 0; t < 9_000; t += 50) {
      clock.advance(50)
      // a and c doubt X in epoch 1 (they never promised anything past it): O holds X down then, and X must hold no lease
      if (det.O.liveness('X') === 'down') expect(det.X.holdsLease(), `at ${clock.now()} ms`).to.equal(false)
    }
    // (and X did come to be held down there: the case is put to the test)
    expect(det.O.liveness('X')).to.equal('down')
  })

  it('a list it means to name again, after proposing another, is the list it comes to name', () => {
    const { clock, det } = cluster({ X: ['a', 'b'], a: ['b', 'c'], b: ['c', 'd'], c: ['d', 'a'], d: ['a', 'b'] })
    clock.advance(3_000)
    det.X.setWitnesses(['a', 'c'])
    expect(until(clock, () => proposed(det.X) !== undefined, 2_000)).to.equal(true)
    // the joiner leaves again: X means to keep a and b
    det.X.setWitnesses(['a', 'b'])
    clock.advance(5_000)
    expect([...det.X.witnesses].sort()).to.deep.equal(['a', 'b'])
    expect(proposed(det.X)).to.equal(undefined)
  })

  it('a member that hangs while proposing new witnesses, who missed the proposal, is still held down', () => {
    let hung = false
    let dropToNew = false
    const { clock, det } = cluster({ X: ['a', 'b'], a: ['b', 'c'], b: ['c', 'd'], c: ['d', 'a'], d: ['a', 'b'] },
      (from, to) => (hung && (from === 'X' || to === 'X')) || (dropToNew && from === 'X' && (to === 'c' || to === 'd')))
    clock.advance(3_000)
    det.X.setWitnesses(['c', 'd'])
    expect(until(clock, () => proposed(det.X) !== undefined, 3_000)).to.equal(true)
    // c and d never get the proposal; X hangs once a and b have it, before their promises come back
    dropToNew = true
    expect(until(clock, () => heardOf(det, 'a') && heardOf(det, 'b'), 1_000)).to.equal(true)
    hung = true
    det.X.stop()
    clock.advance(10_000)
    for (const id of ['a', 'b', 'c', 'd']) expect(det[id].liveness('X'), id).to.equal('down')
  })

  it('a member that means to name witnesses that know it already, and whose links to it went, gets their echoes and names them (100 real nodes starting: stuck for good)', () => {
    const { clock, det } = cluster({ X: ['a', 'b'], a: ['b', 'c'], b: ['c', 'd'], c: ['d', 'a'], d: ['a', 'b'] })
    clock.advance(3_000)
    det.X.setWitnesses(['c', 'd'])
    expect(until(clock, () => sameSet(det.X.witnesses, ['c', 'd']), 5_000)).to.equal(true)
    det.X.setWitnesses(['a', 'b'])
    expect(until(clock, () => sameSet(det.X.witnesses, ['a', 'b']), 5_000)).to.equal(true)
    // c and d need their links to X no more, and drop them; they keep what they know of X
    clock.advance(10_000)
    expect(det.c.linked()).to.not.include('X')
    expect(det.d.linked()).to.not.include('X')
    // X means to name them again: no epoch they know names them, yet they must echo X, or X
    // never proposes the change (a majority of {X, c, d} must echo it first) and holds them suspect
    det.X.setWitnesses(['c', 'd'])
    expect(until(clock, () => sameSet(det.X.witnesses, ['c', 'd']), 5_000)).to.equal(true)
    expect(det.X.liveness('c')).to.equal('alive')
    expect(det.X.liveness('d')).to.equal('alive')
  })

  it('a witness wanted keeps its link while the member wants it, though no epoch names it, and drops it once the member wants it no more', () => {
    // c and d answer nothing to X: X never has the echoes to propose {c, d}, and wants them all along
    let mute = true
    const { clock, det } = cluster({ X: ['a', 'b'], a: ['b', 'c'], b: ['c', 'd'], c: ['d', 'a'], d: ['a', 'b'] },
      (from, to) => mute && to === 'X' && (from === 'c' || from === 'd'))
    clock.advance(3_000)
    det.X.setWitnesses(['c', 'd'])
    clock.advance(1_000)
    const link = linkOf(det.c, 'X')
    expect(link).to.not.equal(undefined)
    // links neither side needs go after three doubt deadlines (6 s); this one is needed: kept, not dropped and made anew at X's next beat
    clock.advance(12_000)
    expect(linkOf(det.c, 'X')).to.equal(link)
    expect(proposed(det.X)).to.equal(undefined)
    det.X.setWitnesses(['a', 'b'])
    mute = false
    clock.advance(12_000)
    expect(det.c.linked()).to.not.include('X')
    expect(det.c.liveness('X')).to.equal('alive')
  })
})

function linkOf (d: WitnessDetector, peer: string): unknown {
  return (d as unknown as { links: Map<string, unknown> }).links.get(peer)
}

function sameSet (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every(x => b.includes(x))
}
