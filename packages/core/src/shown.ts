/**
 * A value from the network, named in an error message without calling anything of it: a
 * map with its own `toString`, or none (a null prototype), would throw where `String(v)`
 * is written. Strings are quoted and cut to 32 characters; numbers, booleans, null and
 * undefined are written out; anything else is named by its type.
 */
export function shown (raw: unknown): string {
  switch (typeof raw) {
    case 'string': return JSON.stringify(raw.slice(0, 32))
    case 'number':
    case 'boolean':
    case 'undefined': return String(raw)
    default:
      if (raw === null) return 'null'
      if (Array.isArray(raw)) return 'an array'
      if (raw instanceof Uint8Array) return 'bytes'
      return typeof raw
  }
}
