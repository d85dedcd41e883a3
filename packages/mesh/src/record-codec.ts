import { encode } from 'cbor-x'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidMessageError, MAX_HEARTBEAT_MS, shown } from '@simplepool/core'
import type { MemberRecord, MemberStatus, PoolFigures } from '@simplepool/core'
import { openVersioned } from './wire-checks.js'

const STATUSES = new Set<MemberStatus>(['joining', 'up', 'draining', 'leaving'])

/** Records larger than this are refused: a record is a few hundred bytes per pool. */
export const MAX_RECORD_BYTES = 64 * 1024
const MAX_ADDRESSES = 32
const MAX_POOLS = 1024
/** Members one record may doubt (or hear): more than a cluster this membership runs. */
const MAX_DOUBTS = 4096

function isMultiaddr (a: unknown): boolean {
  if (typeof a !== 'string' || a.length >= 512) return false
  try {
    multiaddr(a)
    return true
  } catch {
    return false
  }
}

/** Wire form of a membership record: cbor of a plain object, versioned. */
export function encodeRecord (record: MemberRecord): Uint8Array {
  return encode({ v: 1, ...record })
}

/**
 * Decodes and checks a record from the network. Anything malformed throws
 * `InvalidMessageError` naming the field; the caller drops it and goes on.
 */
export function decodeRecord (bytes: Uint8Array): MemberRecord {
  const r = openVersioned(bytes, 'membership record', MAX_RECORD_BYTES)
  const peerId = r.peerId
  if (typeof peerId !== 'string' || peerId.length === 0 || peerId.length > 128) throw new InvalidMessageError('membership record: bad peerId')
  if (!Array.isArray(r.addresses) || r.addresses.length > MAX_ADDRESSES || !r.addresses.every(isMultiaddr)) {
    throw new InvalidMessageError('membership record: bad addresses')
  }
  if (typeof r.status !== 'string' || !STATUSES.has(r.status as MemberStatus)) throw new InvalidMessageError(`membership record: bad status ${shown(r.status)}`)
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 0) throw new InvalidMessageError('membership record: bad seq')
  for (const k of ['incarnation', 'load'] as const) {
    if (typeof r[k] !== 'number' || !Number.isFinite(r[k]) || r[k] < 0) throw new InvalidMessageError(`membership record: bad ${k}`)
  }
  if (typeof r.heartbeatMs !== 'number' || !(r.heartbeatMs > 0 && r.heartbeatMs <= MAX_HEARTBEAT_MS)) throw new InvalidMessageError(`membership record: bad heartbeatMs (a number of ms in (0, ${MAX_HEARTBEAT_MS}])`)
  // absent from an older node's record: it knows of no epoch we must stay above
  const epoch = r.epoch ?? 0
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) throw new InvalidMessageError('membership record: bad epoch')
  if (r.pools == null || typeof r.pools !== 'object' || Array.isArray(r.pools)) throw new InvalidMessageError('membership record: bad pools')
  const entries = Object.entries(r.pools as Record<string, unknown>)
  if (entries.length > MAX_POOLS) throw new InvalidMessageError('membership record: too many pools')
  const pools: Record<string, PoolFigures> = {}
  for (const [name, p] of entries) {
    const f = p as Partial<PoolFigures> | null
    if (f == null || typeof f.target !== 'number' || typeof f.count !== 'number' || !(f.target >= 0) || !(f.count >= 0)) {
      throw new InvalidMessageError(`membership record: bad figures for pool ${name}`)
    }
    pools[name] = { target: f.target, count: f.count }
  }
  // absent from an older node's record: it doubts nobody we could know of
  const doubts = r.doubts ?? []
  if (!Array.isArray(doubts) || doubts.length > MAX_DOUBTS || !doubts.every(d => typeof d === 'string' && d.length > 0 && d.length <= 128)) {
    throw new InvalidMessageError('membership record: bad doubts')
  }
  // absent from an older node's record: its doubts read as suspicions
  const downs = r.downs ?? []
  if (!Array.isArray(downs) || downs.length > MAX_DOUBTS || !downs.every(d => typeof d === 'string' && d.length > 0 && d.length <= 128)) {
    throw new InvalidMessageError('membership record: bad downs')
  }
  // absent from an older node's record: nobody it marked down is known gone
  const gone = r.gone ?? []
  if (!Array.isArray(gone) || gone.length > MAX_DOUBTS || !gone.every(d => typeof d === 'string' && d.length > 0 && d.length <= 128)) {
    throw new InvalidMessageError('membership record: bad gone')
  }
  // absent from an older node's record: a reader falls back on its doubts
  const hears = r.hears
  if (hears !== undefined && (!Array.isArray(hears) || hears.length > MAX_DOUBTS || !hears.every(t => Number.isInteger(t) && t >= 0 && t <= 0xffffffff))) {
    throw new InvalidMessageError('membership record: bad hears')
  }
  return {
    peerId,
    addresses: r.addresses as string[],
    status: r.status as MemberStatus,
    pools,
    incarnation: r.incarnation as number,
    seq: r.seq as number,
    load: r.load as number,
    heartbeatMs: r.heartbeatMs as number,
    epoch,
    doubts: doubts as string[],
    ...(downs.length > 0 ? { downs: downs as string[] } : {}),
    ...(gone.length > 0 ? { gone: gone as string[] } : {}),
    ...(hears !== undefined ? { hears: hears as number[] } : {})
  }
}
