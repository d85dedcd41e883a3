/** What the scale scenario asks a host process of its nodes (see scale-host.ts). */
export type ScaleAsk =
  /** `admin`: the node (of a host of one) serves the admin API on a free port. */
  | { type: 'start', count: number, bootstrap: string[], membership: 'gossip' | 'witness', admin?: boolean }
  | { type: 'views' }
  | { type: 'downs' }
  | { type: 'calls', ids: string[] }
  | { type: 'count' }
  | { type: 'read', ids: string[] }
  | { type: 'stop' }

/** What a host process answers. */
export type ScaleAnswer =
  | { type: 'ready' }
  | { type: 'started', nodes: Array<{ peerId: string, addresses: string[] }>, startMs: number[], failed: Record<string, number>, adminPort?: number }
  /** Of each node, the members it sees `up` and alive. */
  | { type: 'views', up: number[], lacking?: Record<string, number> }
  /** Of each node, when (Date.now) it marked each peer down. */
  | { type: 'downs', downs: Array<Array<{ peerId: string, at: number }>> }
  /** Per id called, the calls acknowledged and those that failed in a way that may have been counted (a timeout, a lost node). */
  | { type: 'calls', ok: number, acked: Record<string, number>, unsure: Record<string, number>, errors: Record<string, number>, samples: Record<string, string>, slowestMs: number }
  | { type: 'count', count?: number, error?: string }
  | { type: 'read', values?: number[], error?: string }
