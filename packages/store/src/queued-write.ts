/** A load, save or delete waiting for the store's next transaction, and how to answer it. */
export interface QueuedWrite {
  readonly what: 'load' | 'save' | 'delete'
  readonly pool: string
  readonly id: string
  readonly epoch: number
  /** A save's state, encoded. */
  readonly state: Uint8Array | null
  readonly signal: AbortSignal | undefined
  resolve: (state: unknown) => void
  reject: (err: Error) => void
}
