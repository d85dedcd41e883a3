import { encode } from 'cbor-x'
import { InvalidMessageError } from '@simplepool/core'
import type { LinkMessage, WitnessBeat, WitnessUpdate } from './witness-messages.js'
import { checkRosterMessage } from './roster-codec.js'
import { openVersioned, shown, wireChecks } from '../wire-checks.js'

/**
 * Messages larger than this are refused: a beat with its news is a few KB at most, the
 * roster's records at most 64 to a message (under 40 KB unless a member names hundreds of pools).
 */
export const MAX_WITNESS_MESSAGE_BYTES = 1024 * 1024
/** News items one message may carry (a beat carries at most 32 of its own). */
const MAX_UPDATES = 256
/** Witnesses one list may name: K is 8 by default. */
const MAX_WITNESSES = 64

const { object, list, id, count } = wireChecks('witness message')

/** Wire form of a link's message: cbor of a plain object, versioned. */
export function encodeWitnessMessage (m: LinkMessage): Uint8Array {
  return encode({ v: 1, ...m })
}

/**
 * Decodes and checks a message from a link (the detector's, or the roster's). Anything
 * malformed throws `InvalidMessageError` naming the field; the link drops it and goes on.
 */
export function decodeWitnessMessage (bytes: Uint8Array): LinkMessage {
  const r = openVersioned(bytes, 'witness message', MAX_WITNESS_MESSAGE_BYTES)
  if (r.t === 'records' || r.t === 'digest' || r.t === 'pull') return checkRosterMessage(r)
  const updates = list(r.updates, 'updates', MAX_UPDATES).map(decodeUpdate)
  if (r.t === 'news') return { t: 'news', updates }
  if (r.t !== 'beat') throw new InvalidMessageError(`witness message: unknown type ${shown(r.t)}`)
  const beat: WitnessBeat = {
    t: 'beat',
    seq: count(r.seq, 'seq'),
    echo: count(r.echo, 'echo', -1),
    miss: flag(r.miss, 'miss'),
    gen: number(r.gen, 'gen'),
    epoch: count(r.epoch, 'epoch'),
    updates
  }
  if (r.witnesses !== undefined) beat.witnesses = ids(r.witnesses, 'witnesses')
  if (r.needList !== undefined) {
    if (r.needList !== true) throw new InvalidMessageError('witness message: bad needList')
    beat.needList = true
  }
  if (r.want !== undefined) {
    if (r.want !== true) throw new InvalidMessageError('witness message: bad want')
    beat.want = true
  }
  if (r.propose !== undefined) {
    const p = object(r.propose, 'propose')
    beat.propose = { epoch: count(p.epoch, 'propose.epoch'), witnesses: ids(p.witnesses, 'propose.witnesses') }
  }
  if (r.ack !== undefined) {
    beat.ack = count(r.ack, 'ack')
    beat.ackGen = number(r.ackGen, 'ackGen')
  }
  return beat
}

function decodeUpdate (raw: unknown): WitnessUpdate {
  const u = object(raw, 'update')
  const peer = id(u.peer, 'update.peer')
  const gen = number(u.gen, 'update.gen')
  switch (u.k) {
    case 'doubt': return { k: 'doubt', peer, gen, seq: count(u.seq, 'update.seq'), from: id(u.from, 'update.from'), witnesses: ids(u.witnesses, 'update.witnesses') }
    case 'dead': return { k: 'dead', peer, gen, from: id(u.from, 'update.from') }
    case 'alive': {
      const alive: WitnessUpdate = { k: 'alive', peer, gen, seq: count(u.seq, 'update.seq'), witnesses: ids(u.witnesses, 'update.witnesses') }
      if (u.near !== undefined) {
        if (u.near !== true) throw new InvalidMessageError('witness message: bad update.near')
        alive.near = true
      }
      return alive
    }
    default: throw new InvalidMessageError(`witness message: unknown update ${shown(u.k)}`)
  }
}

function ids (raw: unknown, what: string): string[] {
  return list(raw, what, MAX_WITNESSES).map(x => id(x, what))
}

function number (raw: unknown, what: string): number {
  if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new InvalidMessageError(`witness message: bad ${what}`)
  return raw
}

function flag (raw: unknown, what: string): boolean {
  if (typeof raw !== 'boolean') throw new InvalidMessageError(`witness message: bad ${what}`)
  return raw
}
