/** What the links scenario asks a host process (see links-host.ts). */
export type LinksAsk =
  | { type: 'start', count: number, kind: 'link' | 'mesh' }
  /** Per host of the process (by peer id), the peers it dials; every peer's address. */
  | { type: 'go', dials: Record<string, string[]>, addresses: Record<string, string>, timeoutMs: number }
  | { type: 'count' }
  | { type: 'stop' }

/** What a host process answers. */
export type LinksAnswer =
  | { type: 'ready' }
  | { type: 'started', hosts: Array<{ peerId: string, address: string }> }
  /** The time until every dial of the process ended, dials that failed three times, and failures by error name. */
  | { type: 'dialed', ms: number, failed: number, errors: Record<string, number> }
  /** Each host's open connections. */
  | { type: 'count', connections: number[] }
