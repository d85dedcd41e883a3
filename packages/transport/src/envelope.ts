import { ENVELOPE_VERSION, InvalidMessageError, shown } from '@simplepool/core'
import type { WireError } from '@simplepool/core'

/** Kinds of envelope. The numbers are the wire format: never renumber. */
export const Kind = {
  Cast: 1,
  Call: 2,
  Reply: 3,
  Error: 4
} as const

/**
 * One message on the wire, a cbor array whose first two items are version and kind:
 * `[v, Cast, payload]`, `[v, Call, id, payload]`, `[v, Reply, id, payload]`,
 * `[v, Error, id, { name, message, data? }]`. Arrays, not objects: no key names on the wire.
 */
export type Envelope =
  | [typeof ENVELOPE_VERSION, typeof Kind.Cast, unknown]
  | [typeof ENVELOPE_VERSION, typeof Kind.Call, number, unknown]
  | [typeof ENVELOPE_VERSION, typeof Kind.Reply, number, unknown]
  | [typeof ENVELOPE_VERSION, typeof Kind.Error, number, WireError]

/**
 * Checks one decoded envelope; throws `InvalidMessageError` naming what is wrong. Only
 * the frame around the payload is checked here; the payload is the receiver's to judge.
 */
export function checkEnvelope (e: unknown): Envelope {
  if (!Array.isArray(e)) throw new InvalidMessageError('envelope is not an array of at least 3 items')
  checkParts(e.length, e[0], e[1], e[2], e[3])
  return e as Envelope
}

/**
 * Checks an envelope given as its item count and first four items (a row of a frame read
 * flat); returns its kind. Throws what {@link checkEnvelope} throws for the same envelope.
 */
export function checkParts (length: number, version: unknown, kind: unknown, id: unknown, payload: unknown): number {
  if (length < 3) throw new InvalidMessageError('envelope is not an array of at least 3 items')
  if (version !== ENVELOPE_VERSION) throw new InvalidMessageError(`envelope version ${shown(version)} is not supported (expected ${ENVELOPE_VERSION})`)
  if (kind === Kind.Cast) {
    if (length !== 3) throw new InvalidMessageError('cast envelope must have 3 items')
    return kind
  }
  if (kind === Kind.Call || kind === Kind.Reply || kind === Kind.Error) {
    if (length !== 4) throw new InvalidMessageError(`envelope of kind ${shown(kind)} must have 4 items`)
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw new InvalidMessageError('envelope id must be a non-negative integer')
    if (kind === Kind.Error && (payload == null || typeof payload !== 'object' || typeof (payload as WireError).name !== 'string')) {
      throw new InvalidMessageError('error envelope must carry { name, message }')
    }
    return kind
  }
  throw new InvalidMessageError(`envelope kind ${shown(kind)} is unknown`)
}
