import { expect } from 'chai'
import { encode } from 'cbor-x'
import { decodeWitnessMessage, encodeWitnessMessage, MAX_WITNESS_MESSAGE_BYTES } from '../src/witness/witness-codec.js'
import type { LinkMessage, WitnessMessage } from '../src/witness/witness-messages.js'
import type { RosterRecord } from '../src/witness/roster-messages.js'

const beat: WitnessMessage = {
  t: 'beat',
  seq: 41,
  echo: -1,
  miss: true,
  gen: 1700000000000,
  epoch: 2,
  witnesses: ['a', 'b'],
  needList: true,
  want: true,
  propose: { epoch: 3, witnesses: ['a', 'c'] },
  ack: 5,
  ackGen: 7,
  updates: [
    { k: 'doubt', peer: 'x', gen: 1, seq: 2, from: 'a', witnesses: ['a', 'b'] },
    { k: 'dead', peer: 'y', gen: 3, from: 'b' },
    { k: 'alive', peer: 'z', gen: 4, seq: 1, witnesses: ['c'] }
  ]
}

describe('witness codec', () => {
  it('gives back what it encoded: a beat with every field, and news', () => {
    expect(decodeWitnessMessage(encodeWitnessMessage(beat))).to.deep.equal(beat)
    const news: WitnessMessage = { t: 'news', updates: [{ k: 'dead', peer: 'y', gen: 3, from: 'b' }] }
    expect(decodeWitnessMessage(encodeWitnessMessage(news))).to.deep.equal(news)
  })

  it('refuses, with InvalidMessageError naming what is wrong, what no detector sent', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ ...beat, v: 2 }, /version/],
      [{ ...beat, t: 'hello' }, /unknown type/],
      [{ ...beat, seq: -1 }, /bad seq/],
      [{ ...beat, echo: -2 }, /bad echo/],
      [{ ...beat, miss: 'yes' }, /bad miss/],
      [{ ...beat, gen: 'x' }, /bad gen/],
      [{ ...beat, epoch: 1.5 }, /bad epoch/],
      [{ ...beat, needList: false }, /needList/],
      [{ ...beat, want: 1 }, /bad want/],
      [{ ...beat, propose: { epoch: 1, witnesses: 'a' } }, /propose.witnesses/],
      [{ ...beat, ack: 1, ackGen: 'x' }, /ackGen/],
      [{ ...beat, witnesses: Array.from({ length: 65 }, (_, i) => `w${i}`) }, /bad witnesses/],
      [{ ...beat, updates: [{ k: 'doubt', peer: 'x', gen: 1, seq: 2, from: '', witnesses: [] }] }, /update.from/],
      [{ ...beat, updates: [{ k: 'gossip', peer: 'x', gen: 1 }] }, /unknown update/],
      [{ ...beat, updates: Array.from({ length: 257 }, () => ({ k: 'dead', peer: 'y', gen: 3, from: 'b' })) }, /bad updates/],
      [[1, 2, 3], /not an object/],
      // what names a field in the error is not called: a map with a toString of its own
      [{ ...beat, v: { toString: 1 } }, /version object/],
      [{ ...beat, t: { toString: 1 } }, /unknown type object/],
      [{ ...beat, updates: [{ k: { toString: 1 }, peer: 'x', gen: 1 }] }, /unknown update object/]
    ]
    for (const [i, [raw, why]] of bad.entries()) {
      const bytes = encode(Array.isArray(raw) ? raw : { v: 1, ...(raw as object) })
      expect(() => decodeWitnessMessage(bytes), `case ${i}: ${String(why)}`).to.throw(why).with.property('name', 'InvalidMessageError')
    }
    expect(() => decodeWitnessMessage(new Uint8Array([0xff, 0x00]))).to.throw(/not valid cbor/)
    expect(() => decodeWitnessMessage(new Uint8Array(MAX_WITNESS_MESSAGE_BYTES + 1))).to.throw(/exceeds/)
  })

  const record: RosterRecord = { peerId: 'a', gen: 1700000000000, seq: 3, addresses: ['/ip4/127.0.0.1/tcp/4001/p2p/a'], status: 'draining', pools: { room: { target: 2 } }, witnesses: ['b', 'c'] }

  it('gives back the roster\'s messages: records, a digest, a pull', () => {
    const messages: LinkMessage[] = [
      { t: 'records', records: [record, { ...record, peerId: 'b', gone: true }], answer: true, done: true },
      { t: 'records', records: [] },
      { t: 'digest', hashes: Array.from({ length: 64 }, (_, i) => i * 0x1000000) },
      { t: 'pull', have: [{ p: 'a', g: 1, s: 2 }, { p: 'b', g: 3, s: 0, x: true }], buckets: [0, 63], answer: true },
      { t: 'pull', have: [] }
    ]
    for (const m of messages) expect(decodeWitnessMessage(encodeWitnessMessage(m))).to.deep.equal(m)
  })

  it('refuses a roster message no member sent, with InvalidMessageError naming what is wrong', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ t: 'records', records: [{ ...record, status: 'asleep' }] }, /record.status/],
      [{ t: 'records', records: [{ ...record, gen: -1 }] }, /record.gen/],
      [{ t: 'records', records: [{ ...record, pools: { room: { target: -1 } } }] }, /pool target/],
      [{ t: 'records', records: [{ ...record, pools: [] }] }, /record.pools is not an object/],
      [{ t: 'records', records: [{ ...record, gone: false }] }, /record.gone/],
      [{ t: 'records', records: [{ ...record, addresses: Array.from({ length: 17 }, () => 'x') }] }, /record.addresses/],
      [{ t: 'records', records: Array.from({ length: 65 }, () => record) }, /bad records/],
      [{ t: 'records', records: [record], done: 1 }, /bad done/],
      [{ t: 'digest', hashes: Array.from({ length: 65 }, () => 0) }, /bad hashes/],
      [{ t: 'digest', hashes: [2 ** 32] }, /bad hashes/],
      [{ t: 'pull', have: [{ p: 'a', g: 1 }] }, /version.s/],
      [{ t: 'pull', have: [], buckets: [64] }, /bad buckets/],
      [{ t: 'pull', have: Array.from({ length: 1_001 }, () => ({ p: 'a', g: 1, s: 1 })) }, /bad have/]
    ]
    for (const [i, [raw, why]] of bad.entries()) {
      expect(() => decodeWitnessMessage(encode({ v: 1, ...(raw as object) })), `case ${i}: ${String(why)}`).to.throw(why).with.property('name', 'InvalidMessageError')
    }
  })
})
