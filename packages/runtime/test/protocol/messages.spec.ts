import { expect } from 'chai'
import { encodeFrame } from '@simplepool/transport'
import { InvalidMessageError } from '@simplepool/core'
import { Op } from '../../src/protocol/ops.js'
import { opOf } from '../../src/protocol/fields.js'
import {
  decodeBarrier, decodeCall, decodeCast, decodeCount, decodeSpawn, decodeSpawnMany, decodeWorker, encodeCall, encodeCast, encodeCount,
  encodeBarrier, encodeSpawn, encodeSpawnMany, encodeWorker
} from '../../src/protocol/worker-messages.js'
import type { CallMessage, CastMessage, SpawnManyMessage, SpawnMessage, WorkerMessage } from '../../src/protocol/worker-messages.js'
import { decodeClaim, decodeHandoff, encodeClaim, encodeHandoff } from '../../src/protocol/handoff-messages.js'
import { decodeHint, decodeSpillNote, encodeHint, encodeSpillNote } from '../../src/protocol/routing-messages.js'

/** The bytes a value takes on the wire, written by the transport's own writer (a frame of one envelope: a 4-byte length, then a one-item array), as hex. */
function hex (value: unknown): string {
  return Buffer.from(encodeFrame([value]).subarray(5)).toString('hex')
}

function refused (fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected InvalidMessageError')
}

describe('the protocol between runtimes', () => {
  const cast: CastMessage = { pool: 'counter', id: 'r-1', msg: 'inc', spawn: true, hops: 0, spilled: false }
  const call: CallMessage = { ...cast, timeoutMs: 30_000 }

  it('round-trips every operation', () => {
    const spawn: SpawnMessage = { pool: 'counter', id: 'r-1', hops: 2, sync: true, spilled: true }
    const many: SpawnManyMessage = { pool: 'counter', ids: ['a', 'b'], sync: false, hops: 1, spilled: false }
    const where: WorkerMessage = { op: Op.Where, pool: 'counter', id: 'r-1', hops: 0, spilled: true }
    const stop: WorkerMessage = { op: Op.Stop, pool: 'counter', id: 'r-1', hops: 3, spilled: false }
    for (const m of [cast, { ...cast, spawn: false, hops: 2, spilled: true }]) expect(decodeCast(encodeCast(m))).to.deep.equal(m)
    for (const m of [call, { ...call, spilled: true }]) expect(decodeCall(encodeCall(m))).to.deep.equal(m)
    expect(decodeSpawn(encodeSpawn(spawn))).to.deep.equal(spawn)
    expect(decodeSpawnMany(encodeSpawnMany(many))).to.deep.equal(many)
    expect(decodeWorker(encodeWorker(where))).to.deep.equal(where)
    expect(decodeWorker(encodeWorker(stop))).to.deep.equal(stop)
    expect(decodeCount(encodeCount({ pool: 'p' }))).to.deep.equal({ pool: 'p' })
    expect(decodeClaim(encodeClaim({ pool: 'p', id: 'x' }))).to.deep.equal({ pool: 'p', id: 'x' })
    expect(decodeClaim(encodeClaim({ pool: 'p', id: 'x', claimer: 'B' }))).to.deep.equal({ pool: 'p', id: 'x', claimer: 'B' })
    expect(decodeClaim(encodeClaim({ pool: 'p', id: 'x', claimer: 'B', hops: 2 }))).to.deep.equal({ pool: 'p', id: 'x', claimer: 'B', hops: 2 })
    const workers = [{ id: 'a', epoch: 7, snapshot: { n: 1 } }, { id: 'b', epoch: 9, snapshot: null }]
    expect(decodeHandoff(encodeHandoff('p', workers))).to.deep.equal({ pool: 'p', workers })
    expect(decodeHandoff(encodeHandoff('p', workers, true))).to.deep.equal({ pool: 'p', workers, again: true })
    expect(decodeHint(encodeHint({ pool: 'p', fingerprint: '', owner: 'B' }))).to.deep.equal({ pool: 'p', fingerprint: '', owner: 'B' })
    for (const live of [true, false]) expect(decodeSpillNote(encodeSpillNote({ pool: 'p', id: 'x', live }))).to.deep.equal({ pool: 'p', id: 'x', live })
    for (const spilled of [true, false]) expect(decodeBarrier(encodeBarrier({ pool: 'p', id: 'x', hops: 1, timeoutMs: 2000, spilled }))).to.deep.equal({ pool: 'p', id: 'x', hops: 1, timeoutMs: 2000, spilled })
  })

  it('keeps the wire as it was: the arrays, and the bytes of a few', () => {
    // the layouts every node of this version sends and reads; a change here is a new wire
    expect(encodeCast(cast)).to.deep.equal([1, 'counter', 'r-1', 'inc', 1, 0])
    expect(encodeCast({ ...cast, spilled: true })).to.deep.equal([1, 'counter', 'r-1', 'inc', 1, 0, 1])
    expect(encodeCall(call)).to.deep.equal([2, 'counter', 'r-1', 'inc', 1, 0, 30000])
    expect(encodeCall({ ...call, spawn: false, hops: 1, spilled: true })).to.deep.equal([2, 'counter', 'r-1', 'inc', 0, 1, 30000, 1])
    expect(encodeSpawn({ pool: 'p', id: 'x', hops: 0, sync: true, spilled: false })).to.deep.equal([3, 'p', 'x', 0, 1])
    expect(encodeSpawn({ pool: 'p', id: 'x', hops: 0, sync: false, spilled: true })).to.deep.equal([3, 'p', 'x', 0, 0, 1])
    expect(encodeSpawnMany({ pool: 'p', ids: ['a'], sync: true, hops: 0, spilled: true })).to.deep.equal([4, 'p', ['a'], 1, 0, 1])
    expect(encodeWorker({ op: Op.Where, pool: 'p', id: 'x', hops: 0, spilled: false })).to.deep.equal([5, 'p', 'x', 0])
    expect(encodeWorker({ op: Op.Stop, pool: 'p', id: 'x', hops: 0, spilled: true })).to.deep.equal([6, 'p', 'x', 0, 0, 1])
    expect(encodeCount({ pool: 'p' })).to.deep.equal([7, 'p'])
    expect(encodeHint({ pool: 'p', fingerprint: 'f', owner: 'B' })).to.deep.equal([8, 'p', 'f', 'B'])
    expect(encodeClaim({ pool: 'p', id: 'x' })).to.deep.equal([10, 'p', 'x'])
    expect(encodeHandoff('p', [{ id: 'a', epoch: 7, snapshot: 5 }])).to.deep.equal([11, 'p', ['a', 7, 5]])
    expect(encodeSpillNote({ pool: 'p', id: 'x', live: false })).to.deep.equal([12, 'p', 'x', 0])
    expect(encodeBarrier({ pool: 'p', id: 'x', hops: 0, timeoutMs: 2000, spilled: false })).to.deep.equal([13, 'p', 'x', 0, 2000])
    expect(hex(encodeCall(call))).to.equal('870267636f756e74657263722d3163696e630100197530')
    expect(hex(encodeCast({ ...cast, spilled: true }))).to.equal('870167636f756e74657263722d3163696e63010001')
    expect(hex(encodeHandoff('counter', [{ id: 'r-1', epoch: 1024, snapshot: 'n' }]))).to.equal('830b67636f756e7465728363722d31190400616e')
    expect(hex(encodeClaim({ pool: 'counter', id: 'r-1', claimer: 'peerB' }))).to.equal('840a67636f756e74657263722d31657065657242')
    expect(hex(encodeSpillNote({ pool: 'counter', id: 'r-1', live: true }))).to.equal('840c67636f756e74657263722d3101')
  })

  it('reads what nodes before the typed protocol sent: a flag left out, a forwarded where with a field more', () => {
    expect(decodeCall([2, 'p', 'x', 'm', 1, 0, 100])).to.deep.include({ spawn: true, spilled: false, timeoutMs: 100 })
    expect(decodeWorker([5, 'p', 'x', 1, undefined])).to.deep.equal({ op: Op.Where, pool: 'p', id: 'x', hops: 1, spilled: false })
    expect(decodeSpawnMany([4, 'p', ['a'], 1, 2])).to.deep.equal({ pool: 'p', ids: ['a'], sync: true, hops: 2, spilled: false })
  })

  it('refuses malformed messages with InvalidMessageError, naming the field', () => {
    const bad: Array<[() => unknown, string]> = [
      [() => opOf({ op: 1 }), 'array'],
      [() => decodeCast('nope'), 'array'],
      [() => decodeCast([1, '', 'x', 'm', 1, 0]), 'pool'],
      [() => decodeCall([2, 'p', 7, 'm', 1, 0, 10]), 'id'],
      [() => decodeCall([2, 'p', 'x', 'm', 1, -1, 10]), 'hops'],
      [() => decodeCall([2, 'p', 'x', 'm', 1, 0, 1.5]), 'timeoutMs'],
      [() => decodeSpawnMany([4, 'p', 'a', 1, 0]), 'ids'],
      [() => decodeSpawnMany([4, 'p', ['a', ''], 1, 0]), 'id'],
      [() => decodeWorker([3, 'p', 'x', 0]), 'Where or Stop'],
      [() => decodeHandoff([11, 'p', ['a', 1]]), 'triples'],
      [() => decodeHandoff([11, 'p', ['a', 1, 2], 1]), 'again'],
      [() => decodeClaim([10, 'p', 'x', 5]), 'claimer'],
      [() => decodeClaim([10, 'p', 'x', 'B', -1]), 'hops'],
      [() => decodeHint([8, 'p', 5, 'B']), 'fingerprint'],
      [() => decodeSpillNote([12, 'p']), 'id']
    ]
    for (const [fn, what] of bad) {
      const err = refused(fn)
      expect(err, what).to.be.instanceOf(InvalidMessageError)
      expect(err.message, what).to.include(what)
    }
  })

  it('refuses one malformed worker of a handoff alone', () => {
    const m = decodeHandoff([11, 'p', ['a', 1, 'ok', '', 2, 'bad id', 'c', -1, 'bad epoch']])
    expect(m.workers[0]).to.deep.equal({ id: 'a', epoch: 1, snapshot: 'ok' })
    expect(m.workers[1]).to.be.instanceOf(InvalidMessageError)
    expect(m.workers[2]).to.be.instanceOf(InvalidMessageError)
  })
})
