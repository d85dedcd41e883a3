/**
 * The `simplepool` command's client of the admin HTTP API: requests with the token when
 * one is given, the API's named errors turned into exit codes, and server-sent events
 * read as they come.
 */
import { CliError, EXIT } from './common.js'

/** What every admin command knows: where the API is, how to print, and the token (writes need it; reads too on a node whose admin API is bound off loopback). */
export interface Options {
  admin: string
  output: 'table' | 'json'
  token?: string
  /** Destructive commands go ahead without asking. */
  yes: boolean
}

/** `path` under the admin URL, keeping a prefix the URL has (a proxy's `/simplepool/`). */
function under (o: Options, path: string): URL {
  return new URL(path.replace(/^\//, ''), o.admin.endsWith('/') ? o.admin : `${o.admin}/`)
}

/** How long one request may take; a drain with `--wait` polls rather than holding a request open. */
const REQUEST_TIMEOUT_MS = 10_000

function unreachable (o: Options, err: unknown): CliError {
  const e = err as Error
  return new CliError(EXIT.unreachable, `cannot reach the admin API at ${o.admin}: ${e.cause instanceof Error ? e.cause.message : e.message}`)
}

/** One request; the body parsed when it is JSON. */
export async function request (o: Options, method: string, path: string, body?: unknown): Promise<{ status: number, body: any }> {
  const headers: Record<string, string> = {}
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(under(o, path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  } catch (err) {
    throw unreachable(o, err)
  }
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body: parsed }
}

/** The body of a 2xx, or the API's named error as a CliError (404: 1; 401/403: 2 with a hint; anything else: 2). */
export async function call (o: Options, method: string, path: string, body?: unknown): Promise<any> {
  const r = await request(o, method, path, body)
  if (r.status >= 200 && r.status < 300) return r.body
  throw failure(o, r)
}

/** The CliError for an answer that is not a 2xx. */
export function failure (o: Options, r: { status: number, body: any }): CliError {
  const e = r.body?.error
  const what = e !== undefined ? `${String(e.name)}: ${String(e.message)}` : `HTTP ${r.status}`
  if (r.status === 401 && o.token === undefined) return new CliError(EXIT.unreachable, `${what}\n(give the token with --token or $SIMPLEPOOL_TOKEN)`)
  // 404: not found; 422: the worker answered with its own error
  return new CliError(r.status === 404 || r.status === 422 ? EXIT.unhealthy : EXIT.unreachable, what)
}

export async function read (o: Options, path: string): Promise<any> {
  return await call(o, 'GET', path)
}

/** One server-sent event. */
export interface StreamEvent { id?: string, event: string, data: any }

/**
 * Reads server-sent events from `path`, giving each to `onEvent`, until `signal` aborts or
 * the server ends the stream. Resolves normally when aborted.
 */
export async function stream (o: Options, path: string, onEvent: (e: StreamEvent) => void, signal: AbortSignal): Promise<void> {
  let res: Response
  try {
    res = await fetch(under(o, path), { signal, headers: o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {} })
  } catch (err) {
    if (signal.aborted) return
    throw unreachable(o, err)
  }
  if (res.status !== 200) {
    const text = await res.text()
    throw new CliError(res.status === 404 ? EXIT.unhealthy : EXIT.unreachable, `HTTP ${res.status}: ${text.slice(0, 200)}`)
  }
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let cut: number
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut)
        buffer = buffer.slice(cut + 2)
        const e: Partial<StreamEvent> & { dataText?: string } = {}
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue
          const colon = line.indexOf(':')
          if (colon < 0) continue
          const field = line.slice(0, colon)
          const value = line.slice(colon + 1).replace(/^ /, '')
          if (field === 'id') e.id = value
          else if (field === 'event') e.event = value
          else if (field === 'data') e.dataText = (e.dataText === undefined ? '' : `${e.dataText}\n`) + value
        }
        if (e.event === undefined || e.dataText === undefined) continue
        let data: unknown = e.dataText
        try {
          data = JSON.parse(e.dataText)
        } catch {
          // not JSON: given as text
        }
        onEvent({ id: e.id, event: e.event, data })
      }
    }
  } catch (err) {
    if (signal.aborted) return
    throw unreachable(o, err)
  }
}
