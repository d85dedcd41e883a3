/** What the witness scenario asks a host process (see witness-host.ts). */
export type WitnessAsk =
  | { type: 'start', count: number }
  /** Every member: its generation and address; the witnesses each names are computed alike everywhere. */
  | { type: 'members', members: Record<string, { gen: number, address: string }>, witnesses: number }
  | { type: 'go' }
  | { type: 'state' }
  | { type: 'stop' }

/** What a host process answers. */
export type WitnessAnswer =
  | { type: 'ready' }
  | { type: 'started', nodes: Array<{ peerId: string, address: string }> }
  | { type: 'linked' }
  | { type: 'going' }
  /** Of each node: whether it holds its lease, and when (Date.now) it first held each member down. */
  | { type: 'state', leased: boolean[], downs: Array<Record<string, number>> }
