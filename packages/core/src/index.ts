/**
 * SimplePool's contracts: the types every package agrees on, named errors that cross the
 * wire, typed `noun:verb` events, the injected clock and randomness, and the defaults.
 * No dependencies.
 *
 * @example
 * ```ts
 * import { TimeoutError, fromWireError, toWireError } from '@simplepool/core'
 * const back = fromWireError(toWireError(new TimeoutError('call timed out')))
 * back.name // 'TimeoutError'
 * ```
 *
 * @packageDocumentation
 */
export * from './errors.js'
export * from './shown.js'
export * from './events.js'
export * from './clock.js'
export * from './random.js'
export * from './hash.js'
export * from './membership.js'
export * from './store.js'
export * from './constants/time.js'
export * from './constants/mesh.js'
export * from './constants/ring.js'
export * from './constants/transport.js'
export * from './constants/runtime.js'
export * from './constants/handoff.js'
export * from './constants/node.js'
export * from './constants/admin.js'
export * from './constants/access.js'
export * from './deadline-wheel.js'
export * from './logger.js'
export * from './throttle.js'
export * from './loopback.js'
export * from './defaults.js'
