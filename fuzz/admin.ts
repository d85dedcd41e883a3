/**
 * The admin HTTP API as a fuzz target: requests of any method, path, query, body, token
 * and `Last-Event-ID`, sent to a node's API over HTTP. Whatever the request, the API
 * answers with a status, and with a JSON `{ error: { name, message } }` for an error; a
 * stream it opens (events, watch) is left at once.
 */
import fc from 'fast-check'
import { wireValue } from './wire-values.js'

export interface AdminRequest {
  method: string
  path: string
  query: string
  body: string | undefined
  auth: boolean
  lastEventId: string | undefined
}

/** Requests to a node whose peer id is `peerId`: real route segments, real names and garbage, mixed. */
export function adminRequests (peerId: string): fc.Arbitrary<AdminRequest> {
  const segment = fc.oneof(
    fc.constantFrom('v1', 'nodes', 'pools', 'workers', 'counter', 'w-1', 'drain', 'undrain', 'targets', 'rebalance', 'call', 'cast', 'plan', 'ring', 'cluster', 'events', 'watch', 'metrics', 'dashboard', '..', '%00', '%ff', '%2F', peerId),
    fc.string({ maxLength: 8 }).map(encodeURIComponent)
  )
  return fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
    path: fc.array(segment, { minLength: 1, maxLength: 5 }).map(s => '/' + s.join('/')),
    query: fc.oneof(fc.constant(''), fc.constantFrom('?scope=cluster', '?scope=x', '?wait=1', '?rows=-1&from=x', '?since=zz', '?rows=1e9', '?rows=2&from=1', '?%zz')),
    body: fc.oneof(fc.constant(undefined), wireValue.map(v => JSON.stringify(v) ?? 'null'), fc.string({ maxLength: 40 }), fc.constant('{"pools":["counter"]}'), fc.constant('{"targets":{"counter":-1}}')),
    auth: fc.boolean(),
    lastEventId: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 20 }), fc.constantFrom('0.0', 'x.99999999999999999999', '.', '-1'))
  })
}

/** Sends `r` to the API at `base`; throws when the answer breaks the contract above. */
export async function checkAdminRequest (base: string, token: string, r: AdminRequest): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (r.auth) headers.authorization = `Bearer ${token}`
  // a header value must be printable ASCII: fetch refuses any other before sending
  if (r.lastEventId !== undefined && /^[\x20-\x7e]*$/.test(r.lastEventId)) headers['last-event-id'] = r.lastEventId
  const ctl = new AbortController()
  try {
    const res = await fetch(base + r.path + r.query, { method: r.method, headers, body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body, signal: ctl.signal })
    if (!(res.status >= 200 && res.status <= 599)) throw new Error(`${r.method} ${r.path}: status ${res.status}`)
    if (res.status >= 400 && r.method !== 'HEAD') {
      const body = await res.json() as { error?: { name?: unknown, message?: unknown } }
      if (typeof body.error?.name !== 'string' || typeof body.error?.message !== 'string') throw new Error(`${r.method} ${r.path}: ${res.status} without a named error: ${JSON.stringify(body)}`)
    }
  } finally {
    ctl.abort()
  }
}
