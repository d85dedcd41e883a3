/**
 * A node's events, and where their listeners go: every event is raised by one part (the
 * mesh for membership, the runtime for workers), and a listener added on the node is
 * added there, so no event is dispatched twice.
 */
import { interceptListeners } from '@simplepool/core'
import type { MeshEvents } from '@simplepool/mesh'
import type { RuntimeEvents } from '@simplepool/runtime'
import type { AuditEvents } from '../admin/audit.js'

/** Events of a node: membership from the mesh, workers from the runtime, operators' writes from the node itself. */
export interface NodeEvents extends MeshEvents, RuntimeEvents, AuditEvents {}

/** The parts that raise a node's events. */
export interface EventSources {
  /** `member:*`, `membership:*`, `mesh:*`. */
  mesh: EventTarget
  /** `worker:*`, `node:*`, `migration:*`, `access:*`. */
  runtime: EventTarget
}

/** The part that raises events of `type`, by the prefix of its name; undefined for the node's own. */
function sourceOf (type: string, sources: EventSources): EventTarget | undefined {
  if (type.startsWith('worker:') || type.startsWith('node:') || type.startsWith('migration:') || type.startsWith('access:')) return sources.runtime
  if (type.startsWith('member:') || type.startsWith('membership:') || type.startsWith('mesh:')) return sources.mesh
  return undefined
}

/** Sends the listeners added to (and removed from) `node` to the part that raises their events. */
export function routeListeners (node: EventTarget, sources: EventSources): void {
  interceptListeners(node, (own, type, listener, options) => {
    const source = sourceOf(type, sources)
    if (source !== undefined) source.addEventListener(type, listener, options)
    else own(type, listener, options)
  }, (own, type, listener, options) => {
    const source = sourceOf(type, sources)
    if (source !== undefined) source.removeEventListener(type, listener, options)
    else own(type, listener, options)
  })
}
