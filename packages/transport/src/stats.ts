/** Counters, for benchmarks and health. */
export interface TransportStats {
  framesOut: number
  framesIn: number
  envelopesOut: number
  envelopesIn: number
  droppedCasts: number
  lateReplies: number
  invalidFrames: number
  timeouts: number
}
