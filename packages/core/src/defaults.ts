/**
 * Merges an init object over defaults, skipping fields that are present but `undefined`:
 * `{ ...DEFAULTS, ...init }` alone lets `{ listen: undefined }` erase a default.
 */
export function withDefaults<D extends object, I extends object> (defaults: D, init: I): D & I {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) }
  for (const [k, v] of Object.entries(init)) if (v !== undefined) out[k] = v
  return out as D & I
}
