/** What the admin API's routes, event log and watch share. */
import type { ServerResponse } from 'node:http'
import type { SimplePoolNode } from './node.js'

/** How long the admin API waits for another node's answer before it reports the node unreachable. */
export const ASK_TIMEOUT_MS = 2_000

/** `signal` (if any) or {@link ASK_TIMEOUT_MS}, whichever ends first: for a question to another node. */
export function asking (signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ASK_TIMEOUT_MS)
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout])
}

/** A member that did not answer, and why. */
export interface Unreachable { node: string, error: string }

/**
 * Asks every live member (those `which` keeps) the same question at once; the answers of
 * those that answered, and who did not.
 */
export async function askMembers<T> (
  node: SimplePoolNode,
  which: (m: ReturnType<SimplePoolNode['members']>[number]) => boolean,
  ask: (peerId: string, signal: AbortSignal) => Promise<T> | T,
  signal?: AbortSignal
): Promise<{ answers: Map<string, T>, unreachable: Unreachable[] }> {
  const answers = new Map<string, T>()
  const unreachable: Unreachable[] = []
  await Promise.all(node.members().filter(m => m.liveness !== 'down' && which(m)).map(async (m) => {
    try {
      answers.set(m.peerId, await ask(m.peerId, asking(signal)))
    } catch (err) {
      unreachable.push({ node: m.peerId, error: `${(err as Error).name}: ${(err as Error).message}` })
    }
  }))
  return { answers, unreachable }
}

export function asObject (data: unknown): Record<string, unknown> {
  return data !== null && typeof data === 'object' && !Array.isArray(data) ? data as Record<string, unknown> : { value: data }
}

/** Bytes a stream may have waiting unsent: past this the client is not reading, and is cut off rather than buffered for. */
const MAX_UNSENT_BYTES = 1 << 20

/**
 * Writes one server-sent event (or comment) to `res`, unless the client has stopped
 * reading: then the stream is ended, so a stalled tab costs a bounded buffer, not memory
 * that grows every second. Its `close` handler does the rest.
 */
export function sendEvent (res: ServerResponse, text: string): void {
  if (res.destroyed) return
  if (res.writableLength > MAX_UNSENT_BYTES) {
    res.destroy()
    return
  }
  res.write(text)
}
