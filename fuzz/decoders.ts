/**
 * Every decoder of what arrives from another node, as a fuzz target: an input arbitrary
 * and a check of one input. Whatever the input, a decoder returns a value within its
 * message's domain (ids and pool names are strings of at most 1,024 characters, counts
 * and epochs are non-negative safe integers) or throws `InvalidMessageError`, never
 * another error: the node answers that and goes on. `test/fuzz.spec.ts` runs each with a
 * small budget; `npm run fuzz` runs millions.
 */
import fc from 'fast-check'
import { encode } from 'cbor-x'
import { fromWireError } from '@simplepool/core'
import { decodeRecord } from '@simplepool/mesh'
import { decodeWitnessMessage } from '../packages/mesh/src/witness/witness-codec.js'
import { checkEnvelope, decodeFrameBody } from '@simplepool/transport'
import { decodeFrameRows } from '../packages/transport/src/frame-codec.js'
import { checkParts } from '../packages/transport/src/envelope.js'
import {
  MAX_ID_LENGTH, Op, decodeBarrier, decodeCall, decodeCast, decodeClaim, decodeCount, decodeHandoff, decodeHint, decodeReplicaDrop, decodeReplicaGet,
  decodeReplicaGetAnswer, decodeReplicaPut, decodeReplicaPutAnswer, decodeSpawn, decodeSpawnMany, decodeSpillNote, decodeWorker
} from '@simplepool/runtime'
import * as node from '../packages/simplepool/src/node/node-protocol.js'
import { bytesNear, payloadFor, scalar, wireValue } from './wire-values.js'

/** One decoder under fuzzing. */
export interface DecoderTarget {
  name: string
  input: fc.Arbitrary<unknown>
  /** Decodes one input; throws (failing the run) when the decoder broke its contract. */
  check: (input: unknown) => void
}

/** Fields of a decoded message that must be ids, and those that must be counts. */
const ID_FIELDS = new Set(['pool', 'id', 'owner', 'claimer'])
const COUNT_FIELDS = new Set(['epoch', 'hops', 'timeoutMs', 'seq'])
/** Fields that must be numbers >= 0, fractions and all (a stall's length in ms). */
const SPAN_FIELDS = new Set(['withinMs'])

/** Throws unless `value` (a decoded message, or part of one) keeps to the domain of its fields. */
function inDomain (value: unknown, path = ''): void {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return
  if (value instanceof Error) {
    if (value.name !== 'InvalidMessageError') throw new Error(`${path}: an item refused with ${value.name}`)
    return
  }
  for (const [k, v] of Object.entries(value)) {
    // a worker's message, a snapshot, a state: the user's, whatever it holds
    if (k === 'msg' || k === 'snapshot' || k === 'bytes' || k === 'targets') continue
    if (ID_FIELDS.has(k) && v !== undefined && (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_LENGTH)) throw new Error(`${path}.${k} is not an id: ${typeof v}`)
    if (COUNT_FIELDS.has(k) && v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 0)) throw new Error(`${path}.${k} is not a count: ${String(v)}`)
    if (SPAN_FIELDS.has(k) && !(Number.isFinite(v) && (v as number) >= 0)) throw new Error(`${path}.${k} is not a span: ${String(v)}`)
    inDomain(v, `${path}.${k}`)
  }
}

/** Runs `decode`: a value in its domain, or `InvalidMessageError`. */
function decodes (decode: () => unknown): void {
  let value: unknown
  try {
    value = decode()
  } catch (err) {
    if ((err as Error)?.name === 'InvalidMessageError') return
    throw new Error(`threw ${(err as Error)?.name}: ${(err as Error)?.message}`)
  }
  inDomain(value)
}

const runtimeDecoders: Array<[string, number, (p: unknown) => unknown]> = [
  ['cast', Op.Cast, decodeCast], ['call', Op.Call, decodeCall], ['spawn', Op.Spawn, decodeSpawn], ['spawnMany', Op.SpawnMany, decodeSpawnMany],
  ['where', Op.Where, decodeWorker], ['stop', Op.Stop, decodeWorker], ['count', Op.Count, decodeCount], ['hint', Op.Hint, decodeHint],
  ['claim', Op.Claim, decodeClaim], ['handoff', Op.HandoffMany, decodeHandoff], ['spillNote', Op.SpillNote, decodeSpillNote], ['barrier', Op.Barrier, decodeBarrier],
  ['replicaPut', Op.ReplicaPut, decodeReplicaPut], ['replicaDrop', Op.ReplicaDrop, decodeReplicaDrop], ['replicaGet', Op.ReplicaGet, decodeReplicaGet]
]

const nodeDecoders: Array<[string, number, (p: unknown) => unknown]> = [
  ['setTargets', node.NodeOp.SetTargets, node.decodeSetTargets], ['health', node.NodeOp.Health, node.decodeHealth], ['drain', node.NodeOp.Drain, node.decodeDrain],
  ['undrain', node.NodeOp.Undrain, node.decodeUndrain], ['held', node.NodeOp.Held, node.decodeHeld], ['rebalance', node.NodeOp.Rebalance, node.decodeRebalance],
  ['markedDown', node.NodeOp.MarkedDown, node.decodeMarkedDown], ['rings', node.NodeOp.Rings, node.decodeRings], ['watch', node.NodeOp.Watch, node.decodeWatch],
  ['inspect', node.NodeOp.Inspect, node.decodeInspect], ['plan', node.NodeOp.Plan, node.decodePlan], ['holders', node.NodeOp.Holders, node.decodeHolders]
]

/** A membership record as a node sends one, with any field possibly replaced. */
const record = fc.record({
  v: fc.oneof(fc.constant(1), scalar),
  peerId: fc.oneof(fc.constant('12D3KooWA'), scalar),
  addresses: fc.oneof(fc.constant(['/ip4/127.0.0.1/tcp/4001']), fc.array(fc.oneof(fc.constant('/ip4/127.0.0.1/tcp/1'), scalar), { maxLength: 3 })),
  status: fc.oneof(fc.constantFrom('joining', 'up', 'draining', 'leaving'), scalar),
  pools: fc.oneof(fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constant('__proto__')), fc.oneof(fc.record({ target: scalar, count: scalar }), wireValue), { maxKeys: 3 }), wireValue),
  incarnation: scalar,
  seq: scalar,
  load: scalar,
  heartbeatMs: fc.oneof(fc.constant(1000), scalar),
  epoch: scalar,
  doubts: fc.oneof(fc.constant([]), wireValue),
  hears: fc.oneof(fc.constant(undefined), wireValue)
}, { requiredKeys: ['v', 'peerId', 'addresses', 'status', 'pools', 'incarnation', 'seq', 'load', 'heartbeatMs'] })

/** A witness link message: a beat, news, or a roster message, with any field possibly replaced. */
const witnessMessage = fc.record({
  v: fc.oneof(fc.constant(1), scalar),
  t: fc.oneof(fc.constantFrom('beat', 'news', 'records', 'digest', 'pull'), scalar),
  seq: scalar,
  echo: scalar,
  miss: scalar,
  gen: scalar,
  epoch: scalar,
  updates: fc.oneof(fc.constant([]), fc.array(fc.record({ k: fc.oneof(fc.constantFrom('doubt', 'dead', 'alive'), scalar), peer: scalar, gen: scalar, seq: scalar, from: scalar, witnesses: wireValue }), { maxLength: 3 }), wireValue),
  witnesses: wireValue,
  records: wireValue,
  hashes: wireValue,
  have: wireValue
}, { requiredKeys: ['v', 't'] })

/** An envelope as a frame holds one: version, kind, id, payload, with any of them replaced. */
const envelope = fc.tuple(fc.oneof(fc.constant(1), scalar), fc.oneof(fc.constantFrom(1, 2, 3, 4), scalar), fc.oneof(fc.nat(), scalar), wireValue)
  .chain(([v, kind, id, payload]) => fc.oneof(fc.constant([v, kind, id, payload]), fc.constant([v, kind, payload]), fc.array(wireValue, { maxLength: 5 })))

/** Every decoder target, by name. */
export const decoderTargets: DecoderTarget[] = [
  ...runtimeDecoders.map(([name, op, decode]): DecoderTarget => ({ name: `runtime ${name}`, input: payloadFor(op), check: (p) => { decodes(() => decode(p)) } })),
  ...nodeDecoders.map(([name, op, decode]): DecoderTarget => ({ name: `node ${name}`, input: payloadFor(op), check: (p) => { decodes(() => decode(p)) } })),
  { name: 'answer replicaPut', input: fc.tuple(wireValue, fc.nat({ max: 5 })), check: (i) => { const [a, n] = i as [unknown, number]; decodes(() => decodeReplicaPutAnswer(a, n)) } },
  { name: 'answer replicaGet', input: wireValue, check: (a) => { decodes(() => decodeReplicaGetAnswer(a)) } },
  { name: 'answer holders', input: wireValue, check: (a) => { decodes(() => node.decodeHoldersAnswer(a)) } },
  {
    name: 'wire error',
    input: wireValue,
    check: (w) => {
      const err = fromWireError(w)
      if (!(err instanceof Error) || typeof err.name !== 'string' || typeof err.message !== 'string') throw new Error('fromWireError gave no error')
    }
  },
  { name: 'membership record', input: bytesNear(record), check: (b) => { decodes(() => decodeRecord(b as Uint8Array)) } },
  { name: 'witness message', input: bytesNear(witnessMessage), check: (b) => { decodes(() => decodeWitnessMessage(b as Uint8Array)) } },
  {
    name: 'frame',
    input: bytesNear(fc.array(envelope, { maxLength: 4 }), (v) => encode(v)),
    check: (b) => {
      const body = b as Uint8Array
      decodes(() => {
        // both readings of a frame: the flat rows of the hot path and the envelopes of the old one agree on what they refuse
        const rows = decodeFrameRows(body)
        // as a channel reads them: an item that is no envelope (-1) is one row long
        for (let at = 0; at < rows.length; at += 1 + Math.max(rows[at] as number, 1)) checkParts(rows[at] as number, rows[at + 1], rows[at + 2], rows[at + 3], rows[at + 4])
        for (const e of decodeFrameBody(body)) checkEnvelope(e)
        return undefined
      })
    }
  }
]
