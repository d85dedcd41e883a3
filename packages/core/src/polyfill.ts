/**
 * Node 20 lacks `Promise.withResolvers`, which libp2p 3, noise, yamux, gossipsub and
 * it-queue call (first inside `stop()`). Every entry point imports this module first.
 *
 * @packageDocumentation
 */

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }

if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> (): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      // eslint-disable-next-line promise/param-names -- resolve and reject are the outer names these are kept in
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

export {}
