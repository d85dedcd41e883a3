/**
 * What may arrive from the network, as fast-check arbitraries: any value CBOR carries
 * (deep, odd and hostile ones included: `__proto__` keys, NaN, 2^53, long strings, byte
 * strings), messages that start with a real operation and go on with fields of every
 * type, and bytes, from random to valid encodings with a few bytes changed.
 */
import fc from 'fast-check'
import { encode } from 'cbor-x'

/** Numbers a field check must get right: the edges of safe integers and of uint32, the non-finite. */
const EDGE_NUMBERS = [-1, 0, 1, 0.5, -0, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, NaN, Infinity, -Infinity]

/** Strings a field check must get right: empty, prototype names, past the id limit. */
const EDGE_STRINGS = ['', '__proto__', 'constructor', 'prototype', 'x'.repeat(1024), 'x'.repeat(1025), '\u0000', '\ud800']

/** A scalar of any type CBOR carries. */
export const scalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null), fc.constant(undefined), fc.boolean(),
  fc.integer(), fc.nat({ max: 10 }), fc.double(), fc.maxSafeInteger(), fc.constantFrom(...EDGE_NUMBERS),
  fc.string({ maxLength: 12 }), fc.constantFrom(...EDGE_STRINGS),
  fc.uint8Array({ maxLength: 24 })
)

/** Any value CBOR carries, nested a few levels: arrays and string-keyed maps of them. */
export const wireValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>(tie => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'name', 'message', 'data')), tie('value'), { maxKeys: 4 })
  )
})).value

/** A field as a message holds one: a short id, a count, a flag, a flat list of ids and numbers, or anything. */
const field: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('counter', 'rooms', 'w-1', 'w-2', 'n1', 'n2'),
  fc.nat({ max: 5 }), fc.nat(), fc.constantFrom(0, 1),
  fc.array(fc.oneof(fc.constantFrom('w-1', 'w-2', 'w-3'), fc.nat(), fc.constantFrom(1e12, 2 ** 53), wireValue), { maxLength: 9 }),
  wireValue
)

/** A message of operation `op`: its number first, then fields of every type. */
export function messageOf (op: number): fc.Arbitrary<unknown[]> {
  return fc.array(field, { maxLength: 7 }).map(fields => [op, ...fields])
}

/** A message to a decoder: mostly of `op`, sometimes of another operation, sometimes anything. */
export function payloadFor (op: number): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: messageOf(op) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 120 }).chain(messageOf) }, { weight: 1, arbitrary: wireValue })
}

/** Bytes: random ones, and valid encodings of `valid` values with a few bytes changed, cut or added. */
export function bytesNear (valid: fc.Arbitrary<unknown>, encoder: (v: unknown) => Uint8Array = (v) => encode(v)): fc.Arbitrary<Uint8Array> {
  const mutated = fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 4 }), fc.integer({ min: -8, max: 8 }))
    .map(([v, edits, grow]) => {
      const bytes = encoder(v)
      const out = new Uint8Array(Math.max(0, bytes.length + grow))
      out.set(bytes.subarray(0, out.length))
      for (const [at, b] of edits) if (out.length > 0) out[at % out.length] = b
      return out
    })
  return fc.oneof(fc.uint8Array({ maxLength: 256 }), mutated, valid.map(v => encoder(v)))
}
