/** Questions the admin API asks of the members: one deadline for each, and all of them at once. */
import type { AdminNode, MemberInfo } from './admin-node.js'
import { ASK_TIMEOUT_MS } from '@simplepool/core'

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
  node: Pick<AdminNode, 'members'>,
  which: (m: MemberInfo) => boolean,
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
