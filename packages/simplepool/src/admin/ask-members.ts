/** Questions the admin API asks of the members: at most {@link ASK_CONCURRENCY} at a time, all within one deadline. */
import type { AdminNode, MemberInfo } from './admin-node.js'
import { ASK_CONCURRENCY, ASK_TIMEOUT_MS } from '@simplepool/core'

/** `signal` (if any) or {@link ASK_TIMEOUT_MS}, whichever ends first: for a question to another node. */
export function asking (signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ASK_TIMEOUT_MS)
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout])
}

/** A member that did not answer, and why. */
export interface Unreachable { node: string, error: string }

/**
 * `fn` of every item, at most `limit` running at once, in the items' order of starting;
 * the results in the items' order.
 */
export async function boundedMap<T, R> (items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/**
 * Asks every live member (those `which` keeps) the same question, at most
 * {@link ASK_CONCURRENCY} at a time, all within one deadline (`asking`): the answers of
 * those that answered, and who did not. A member whose turn comes after the deadline is
 * not asked; it is reported with the deadline's error.
 */
export async function askMembers<T> (
  node: Pick<AdminNode, 'members'>,
  which: (m: MemberInfo) => boolean,
  ask: (peerId: string, signal: AbortSignal) => Promise<T> | T,
  signal?: AbortSignal
): Promise<{ answers: Map<string, T>, unreachable: Unreachable[] }> {
  const answers = new Map<string, T>()
  const unreachable: Unreachable[] = []
  const deadline = asking(signal)
  await boundedMap(node.members().filter(m => m.liveness !== 'down' && which(m)), ASK_CONCURRENCY, async (m) => {
    try {
      deadline.throwIfAborted()
      answers.set(m.peerId, await ask(m.peerId, deadline))
    } catch (err) {
      unreachable.push({ node: m.peerId, error: `${(err as Error).name}: ${(err as Error).message}` })
    }
  })
  return { answers, unreachable }
}
