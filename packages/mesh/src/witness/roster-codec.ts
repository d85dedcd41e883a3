import { InvalidMessageError } from '@simplepool/core'
import type { MemberStatus, PoolTarget } from '@simplepool/core'
import { MAX_ID, wireChecks } from '../wire-checks.js'
import { ROSTER_BUCKETS, ROSTER_CHUNK, ROSTER_PULL_MAX } from './roster-messages.js'
import type { RosterMessage, RosterRecord, RosterVersion } from './roster-messages.js'

const MAX_ADDRESSES = 16
const MAX_ADDRESS = 512
const MAX_POOLS = 256
const MAX_WITNESSES = 64
const STATUSES: readonly MemberStatus[] = ['joining', 'up', 'draining', 'leaving']
const { object, list, id, count: whole } = wireChecks('roster message')

/**
 * Checks a decoded roster message from a link (the cbor itself is the link codec's).
 * Anything malformed throws `InvalidMessageError` naming the field; the link drops it.
 */
export function checkRosterMessage (r: Record<string, unknown>): RosterMessage {
  switch (r.t) {
    case 'records': {
      const records = list(r.records, 'records', ROSTER_CHUNK).map(checkRecord)
      return { t: 'records', records, ...(flag(r.answer, 'answer') ? { answer: true } : {}), ...(flag(r.done, 'done') ? { done: true } : {}) }
    }
    case 'digest': {
      const hashes = list(r.hashes, 'hashes', ROSTER_BUCKETS).map(h => {
        if (!Number.isInteger(h) || (h as number) < 0 || (h as number) > 0xffffffff) throw new InvalidMessageError('roster message: bad hashes')
        return h as number
      })
      return { t: 'digest', hashes }
    }
    case 'pull': {
      const have = list(r.have, 'have', ROSTER_PULL_MAX).map(checkVersion)
      const out: RosterMessage = { t: 'pull', have }
      if (r.buckets !== undefined) {
        out.buckets = list(r.buckets, 'buckets', ROSTER_BUCKETS).map(b => {
          if (!Number.isInteger(b) || (b as number) < 0 || (b as number) >= ROSTER_BUCKETS) throw new InvalidMessageError('roster message: bad buckets')
          return b as number
        })
      }
      if (flag(r.answer, 'answer')) out.answer = true
      return out
    }
    default: throw new InvalidMessageError('roster message: unknown type')
  }
}

function checkRecord (raw: unknown): RosterRecord {
  const r = object(raw, 'record')
  if (!STATUSES.includes(r.status as MemberStatus)) throw new InvalidMessageError('roster message: bad record.status')
  const pools = object(r.pools, 'record.pools')
  const names = Object.keys(pools)
  if (names.length > MAX_POOLS) throw new InvalidMessageError('roster message: too many pools')
  const checked: Record<string, PoolTarget> = {}
  for (const name of names) {
    if (name.length === 0 || name.length > MAX_ID) throw new InvalidMessageError('roster message: bad pool name')
    const target = object(pools[name], 'record.pools').target
    if (typeof target !== 'number' || !Number.isFinite(target) || target < 0) throw new InvalidMessageError('roster message: bad pool target')
    checked[name] = { target }
  }
  const record: RosterRecord = {
    peerId: id(r.peerId, 'record.peerId'),
    gen: whole(r.gen, 'record.gen'),
    seq: whole(r.seq, 'record.seq'),
    addresses: list(r.addresses, 'record.addresses', MAX_ADDRESSES).map(a => {
      if (typeof a !== 'string' || a.length > MAX_ADDRESS) throw new InvalidMessageError('roster message: bad record.addresses')
      return a
    }),
    status: r.status as MemberStatus,
    pools: checked,
    witnesses: list(r.witnesses, 'record.witnesses', MAX_WITNESSES).map(w => id(w, 'record.witnesses'))
  }
  if (flag(r.gone, 'record.gone')) record.gone = true
  return record
}

function checkVersion (raw: unknown): RosterVersion {
  const v = object(raw, 'version')
  const out: RosterVersion = { p: id(v.p, 'version.p'), g: whole(v.g, 'version.g'), s: whole(v.s, 'version.s') }
  if (flag(v.x, 'version.x')) out.x = true
  return out
}

/** An optional `true`: absent is false, anything but `true` is malformed. */
function flag (raw: unknown, what: string): boolean {
  if (raw === undefined) return false
  if (raw !== true) throw new InvalidMessageError(`roster message: bad ${what}`)
  return true
}
