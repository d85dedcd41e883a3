import type { MemberStatus, PoolTarget } from '@simplepool/core'

/**
 * What one member says of itself, and every node keeps of every member (see `Roster`):
 * what placement and routing need, and the witnesses it named when it joined. It changes
 * only when the member changes it (a status, a target, an address), so it spreads once per
 * change, not once per heartbeat; counts and load are asked for when wanted.
 */
export interface RosterRecord {
  peerId: string
  /** The member's generation: its membership's start. A later one supersedes every record of earlier ones. */
  gen: number
  /** Raised by the member at every change of its record within a generation. */
  seq: number
  addresses: readonly string[]
  status: MemberStatus
  pools: Readonly<Record<string, PoolTarget>>
  /** The witnesses it named when it joined (its epoch 0; later epochs spread as the detector's news). */
  witnesses: readonly string[]
  /**
   * Set on a record that says the member's generation is over: it left, or was held down,
   * and is forgotten. It supersedes every record of that generation, so a late copy
   * relayed by a node that was cut off does not bring it back.
   */
  gone?: true
}

/** One record's version, in an anti-entropy exchange. */
export interface RosterVersion {
  p: string
  g: number
  s: number
  /** The generation is over (a `gone` record). */
  x?: true
}

/**
 * Records pushed as news (a member changed its own, a node passes on one newer than it
 * had), or sent in answer to a pull; `done` marks the last message of a pull's answer.
 */
export interface RosterRecords {
  t: 'records'
  records: RosterRecord[]
  /** In answer to a pull: the asker alone lacked these, so they are not passed on. */
  answer?: true
  done?: true
}

/**
 * Anti-entropy: a hash of the sender's versions in each of `ROSTER_BUCKETS` buckets (by
 * the member's tag). The receiver pulls the buckets that differ.
 */
export interface RosterDigest {
  t: 'digest'
  hashes: number[]
}

/**
 * Asks for every record newer than `have` in `buckets` (all of them when absent: a join).
 * The answer is records, and, when the asker holds newer records than the answerer, a pull
 * back marked `answer` (which is not answered with another pull).
 */
export interface RosterPull {
  t: 'pull'
  have: RosterVersion[]
  buckets?: number[]
  answer?: true
}

export type RosterMessage = RosterRecords | RosterDigest | RosterPull

/** Buckets of an anti-entropy digest: a difference costs the versions of one bucket, a hundredth of the roster at 6,400 members, not all of it. */
export const ROSTER_BUCKETS = 64
/** Records one message carries at most: about 40 KB at 600 bytes each. */
export const ROSTER_CHUNK = 64
/** Versions one pull carries at most (about 60 KB); a pull of more buckets goes as several. */
export const ROSTER_PULL_MAX = 1_000
