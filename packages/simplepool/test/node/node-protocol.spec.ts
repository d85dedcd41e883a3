import { expect } from 'chai'
import { encode, decode } from 'cbor-x'
import { encodeFrame } from '@simplepool/transport'
import { FIRST_NODE_OP } from '@simplepool/runtime'
import {
  NodeOp, decodeDrain, decodeHealth, decodeHeld, decodeHolders, decodeHoldersAnswer, decodeInspect, decodeMarkedDown, decodePlan, decodeRebalance, decodeRings, decodeSetTargets,
  decodeUndrain, decodeWatch, encodeDrain, encodeHealth, encodeHeld, encodeInspect, encodeMarkedDown, encodePlan, encodeRebalance, encodeRings,
  encodeHolders, encodeSetTargets, encodeUndrain, encodeWatch, nodeOpOf
} from '../../src/node/node-protocol.js'

/** One operation's codec, a message, and the array that message is on the wire (as nodes have always sent it). */
interface Case {
  name: string
  encode: (m: any) => unknown[]
  decode: (payload: unknown) => unknown
  message: unknown
  wire: unknown[]
  /** The wire array's bytes as the transport writes them, written down once: a change here is a change of the protocol. */
  cbor: string
}

const CASES: Case[] = [
  { name: 'SetTargets', encode: encodeSetTargets, decode: decodeSetTargets, message: { targets: { counter: 200_000, rooms: 0 } }, wire: [100, { counter: 200_000, rooms: 0 }], cbor: '821864a267636f756e7465721a00030d4065726f6f6d7300' },
  { name: 'Health', encode: encodeHealth, decode: decodeHealth, message: {}, wire: [101], cbor: '811865' },
  { name: 'Drain, every pool', encode: encodeDrain, decode: decodeDrain, message: { pools: null }, wire: [102, null], cbor: '821866f6' },
  { name: 'Drain, some pools', encode: encodeDrain, decode: decodeDrain, message: { pools: ['counter'] }, wire: [102, ['counter']], cbor: '8218668167636f756e746572' },
  { name: 'Undrain', encode: encodeUndrain, decode: decodeUndrain, message: { pools: null }, wire: [103, null], cbor: '821867f6' },
  { name: 'Held', encode: encodeHeld, decode: decodeHeld, message: { pools: ['counter', 'rooms'] }, wire: [104, ['counter', 'rooms']], cbor: '8218688267636f756e74657265726f6f6d73' },
  { name: 'Rebalance', encode: encodeRebalance, decode: decodeRebalance, message: { pool: 'counter' }, wire: [105, 'counter'], cbor: '82186967636f756e746572' },
  { name: 'MarkedDown', encode: encodeMarkedDown, decode: decodeMarkedDown, message: { withinMs: 6_500 }, wire: [106, 6_500], cbor: '82186a191964' },
  { name: 'Rings', encode: encodeRings, decode: decodeRings, message: {}, wire: [107], cbor: '81186b' },
  { name: 'Watch, from the start', encode: encodeWatch, decode: decodeWatch, message: { afterEventId: null }, wire: [108, null], cbor: '82186cf6' },
  { name: 'Watch, after an event', encode: encodeWatch, decode: decodeWatch, message: { afterEventId: 'lq3x.12' }, wire: [108, 'lq3x.12'], cbor: '82186c676c7133782e3132' },
  { name: 'Inspect', encode: encodeInspect, decode: decodeInspect, message: { pool: 'counter', id: 'w-7' }, wire: [109, 'counter', 'w-7'], cbor: '83186d67636f756e74657263772d37' },
  { name: 'Plan', encode: encodePlan, decode: decodePlan, message: { pool: 'counter' }, wire: [110, 'counter'], cbor: '82186e67636f756e746572' },
  { name: 'Holders', encode: encodeHolders, decode: decodeHolders, message: {}, wire: [111], cbor: '81186f' }
]

/** The bytes `value` takes in a frame, written by the transport's own writer (a frame of one envelope: a 4-byte length, then a one-item array). */
function wireHex (value: unknown): string {
  return Buffer.from(encodeFrame([value]).subarray(5)).toString('hex')
}

function invalid (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect((err as Error).name).to.equal('InvalidMessageError')
    return (err as Error).message
  }
  throw new Error('expected InvalidMessageError, nothing was thrown')
}

describe('node protocol', () => {
  it('numbers its operations from the runtime\'s FIRST_NODE_OP, one each, never reused', () => {
    expect(NodeOp.SetTargets).to.equal(FIRST_NODE_OP)
    expect(Object.values(NodeOp)).to.deep.equal([100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111])
  })

  for (const c of CASES) {
    describe(c.name, () => {
      it('encodes to the array nodes have always sent, and decodes it back', () => {
        const payload = c.encode(c.message)
        expect(payload).to.deep.equal(c.wire)
        expect(c.decode(payload)).to.deep.equal(c.message)
        // as it arrives: through CBOR, as the transport carries it
        expect(c.decode(decode(encode(payload)))).to.deep.equal(c.message)
      })

      it('has the same bytes in CBOR as ever', () => {
        expect(wireHex(c.encode(c.message))).to.equal(c.cbor)
      })

      it('refuses what is not its message with InvalidMessageError', () => {
        invalid(() => c.decode(undefined))
        invalid(() => c.decode('not an array'))
        invalid(() => c.decode([]))
        invalid(() => c.decode(['100']))
        // another operation's message
        invalid(() => c.decode([c.wire[0] === NodeOp.Plan ? NodeOp.Health : NodeOp.Plan, 'counter']))
      })
    })
  }

  it('reads the operation of a message, and refuses one without', () => {
    expect(nodeOpOf([107])).to.equal(NodeOp.Rings)
    invalid(() => nodeOpOf({ op: 107 }))
    invalid(() => nodeOpOf([null]))
  })

  it('checks every field of a message that arrived', () => {
    for (const bad of [null, [1, 2], 'counter=5', 5]) invalid(() => decodeSetTargets([NodeOp.SetTargets, bad]))
    for (const bad of [-1, Infinity, NaN, '5', null]) {
      expect(invalid(() => decodeSetTargets([NodeOp.SetTargets, { counter: bad }]))).to.include('counter')
    }
    for (const decodePools of [decodeDrain, decodeUndrain, decodeHeld]) {
      const op = decodePools === decodeDrain ? NodeOp.Drain : decodePools === decodeUndrain ? NodeOp.Undrain : NodeOp.Held
      expect(invalid(() => decodePools([op, 'counter']))).to.include('pools must be an array')
      invalid(() => decodePools([op, ['counter', 7]]))
      invalid(() => decodePools([op, { 0: 'counter' }]))
      // absent reads as null, as the node always took it: every pool
      expect(decodePools([op])).to.deep.equal({ pools: null })
    }
    for (const bad of [-1, Infinity, '10', null, undefined]) invalid(() => decodeMarkedDown([NodeOp.MarkedDown, bad]))
    expect(decodeMarkedDown([NodeOp.MarkedDown, 0])).to.deep.equal({ withinMs: 0 })
    for (const bad of [7, {}, ['x']]) invalid(() => decodeWatch([NodeOp.Watch, bad]))
    expect(decodeWatch([NodeOp.Watch])).to.deep.equal({ afterEventId: null })
    invalid(() => decodeRebalance([NodeOp.Rebalance]))
    invalid(() => decodeRebalance([NodeOp.Rebalance, ['counter']]))
    invalid(() => decodePlan([NodeOp.Plan, 42]))
    expect(invalid(() => decodeInspect([NodeOp.Inspect, 'counter', 7]))).to.include('id')
    expect(invalid(() => decodeInspect([NodeOp.Inspect, null, 'w-7']))).to.include('pool')
  })

  it('takes a holders answer only as a bounded list of peer ids', () => {
    expect(decodeHoldersAnswer(['a', 'b'])).to.deep.equal(['a', 'b'])
    for (const bad of [null, 'a', [1], [{}], Array.from({ length: 10_001 }, () => 'x')]) invalid(() => decodeHoldersAnswer(bad))
  })
})
