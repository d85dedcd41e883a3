/**
 * Typed `EventTarget`: events are `CustomEvent`s named `noun:verb`, with a typed `detail`.
 */

/** A listener for one event of a map of event names to detail types. */
export type TypedListener<Detail> = ((evt: CustomEvent<Detail>) => void) | { handleEvent: (evt: CustomEvent<Detail>) => void }

type ListenOptions = Parameters<EventTarget['addEventListener']>[2]

/** The typed face of an `EventTarget` whose event names and details are given by `Events`. */
export interface TypedEventTarget<Events extends Record<string, unknown>> {
  addEventListener: <K extends keyof Events & string>(type: K, listener: TypedListener<Events[K]> | null, options?: ListenOptions) => void
  removeEventListener: <K extends keyof Events & string>(type: K, listener: TypedListener<Events[K]> | null, options?: ListenOptions) => void
}

/** An `EventTarget` with typed listeners and an `emit` for `CustomEvent`s. */
export class TypedEventTarget<Events extends Record<string, unknown>> extends EventTarget {
  /**
   * Dispatches a `CustomEvent` with `detail`. As with any `EventTarget` in Node, a
   * listener that throws does not stop the others or the emitter, but its error is
   * reported as an uncaught exception: listeners must not throw.
   */
  emit<K extends keyof Events & string>(type: K, detail: Events[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }))
  }
}

type ListenerArgs = Parameters<EventTarget['addEventListener']>

/**
 * Puts `add` and `remove` in front of a target's `addEventListener` and
 * `removeEventListener`, each given the target's own method to call on. They are set as
 * instance properties, which is how {@link TypedEventTarget} declares them, so a subclass
 * cannot override them as methods.
 */
export function interceptListeners (
  target: EventTarget,
  add: (own: (...a: ListenerArgs) => void, ...a: ListenerArgs) => void,
  remove: (own: (...a: ListenerArgs) => void, ...a: ListenerArgs) => void
): void {
  const ownAdd = EventTarget.prototype.addEventListener.bind(target)
  const ownRemove = EventTarget.prototype.removeEventListener.bind(target)
  const t = target as unknown as { addEventListener: (...a: ListenerArgs) => void, removeEventListener: (...a: ListenerArgs) => void }
  t.addEventListener = (...a) => { add(ownAdd, ...a) }
  t.removeEventListener = (...a) => { remove(ownRemove, ...a) }
}
