/** What the witness scenario asks a host process (see witness-host.ts). */
export type WitnessAsk =
  | { type: 'start', count: number }
  /** The members a node joins through (each pulls the member list from the first that answers), and K. */
  | { type: 'bootstrap', peers: Array<{ peerId: string, address: string }>, witnesses: number }
  | { type: 'go' }
  | { type: 'state' }
  | { type: 'stop' }

/** What a host process answers. */
export type WitnessAnswer =
  | { type: 'ready' }
  | { type: 'started', nodes: Array<{ peerId: string, address: string }> }
  | { type: 'linked' }
  | { type: 'going' }
  /**
   * Of each node: whether it holds its lease, how many members it sees up (not down), when
   * (Date.now) it first held each member down, how many connections it has opened or
   * accepted since it started, and how many are open now.
   */
  | { type: 'state', leased: boolean[], up: number[], downs: Array<Record<string, number>>, opened: number[], open: number[] }
