/**
 * The plumbing of the admin HTTP API: a `node:http` server on loopback by default, a
 * small router, bearer-token checks (writes; on a host other than loopback every route but
 * the probes), bounded JSON bodies, and errors as JSON with a status named for what went
 * wrong. What the routes do is in routes.ts.
 *
 * Nothing a client sends may crash the node: every handler runs inside one catch that
 * turns an error into a response, and a body is read only up to its limit.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { timingSafeEqual, createHash } from 'node:crypto'
import { InvalidOptionError, isLoopbackHost } from '@simplepool/core'
import { MAX_ADMIN_BODY_BYTES } from '@simplepool/core'
import type { WriteBy } from './audit.js'

/** Options of the admin server (`createNode({ admin })`). */
export interface AdminOptions {
  /** Port to listen on; 0 takes a free one (see `node.adminAddress`). */
  port: number
  /**
   * Address to bind. On any other than loopback (`0.0.0.0` included) a token is required,
   * and every route but `/healthz` and `/readyz` asks for it (see `openReads`).
   * @default '127.0.0.1'
   */
  host?: string
  /** Bearer token the write endpoints ask for (at least 8 characters); without one, writes are refused (403). */
  token?: string
  /**
   * Serve the read routes (figures, events, the dashboard's feed) without the token on a
   * host other than loopback, for a network where reading is no secret. @default false
   */
  openReads?: boolean
}

/** The routes a load balancer or an orchestrator probes: open on every host. */
const PROBES = new Set(['/healthz', '/readyz'])

/** An error a route throws to answer with `status` and a named JSON error (and `extra` fields beside it). */
export class HttpError extends Error {
  constructor (readonly status: number, name: string, message: string, readonly extra?: Record<string, unknown>) {
    super(message)
    this.name = name
  }
}

/** What a route gets: the path's parameters, the parsed query, and the body read on demand. */
export interface RouteContext {
  /** The request's path, as sent. */
  path: string
  params: Record<string, string>
  query: URLSearchParams
  /** The JSON body, parsed; `{}` when there is none. Throws `HttpError` 400/413/415. */
  body: () => Promise<Record<string, unknown>>
  /** A request header, lower-case name. */
  header: (name: string) => string | undefined
  signal: AbortSignal
}

/**
 * A route's answer: JSON (any value), text with its content type, or `{ stream }`, which
 * takes the response over (server-sent events).
 */
export type RouteResult = unknown | { text: string, contentType: string, headers?: Record<string, string> } | { stream: (res: ServerResponse) => void }

interface Route {
  method: string
  parts: string[]
  write: boolean
  handle: (ctx: RouteContext) => Promise<RouteResult>
  /** A write's name in the audit trail, and the fields of its body recorded there (never a worker's message: the user's data). */
  audit?: { action: string, fields: readonly string[] }
}

/** Where the admin API records each write it was asked for, as it ends (see audit.ts). */
export type RecordWrite = (by: WriteBy, action: string, target: Record<string, unknown>, error?: unknown) => void

/** Status codes for the library's named errors; anything else is a 500. */
const STATUS_OF: Record<string, number> = {
  InvalidOptionError: 400,
  InvalidMessageError: 400,
  ForbiddenError: 403,
  UnknownPoolError: 404,
  WorkerNotAliveError: 404,
  OverloadedError: 503,
  NodeUnavailableError: 503,
  NotStartedError: 503,
  TimeoutError: 504,
  AbortError: 504
}

/** Checks `createNode`'s `admin` option and says what was expected. */
export function validateAdminOptions (admin: unknown): AdminOptions {
  if (admin === null || typeof admin !== 'object') throw new InvalidOptionError(`admin must be an object such as { port: 9400 }, got ${String(admin)}`)
  const a = admin as Record<string, unknown>
  if (!Number.isInteger(a.port) || (a.port as number) < 0 || (a.port as number) > 65_535) throw new InvalidOptionError(`admin.port must be an integer in [0, 65535], got ${String(a.port)}`)
  if (a.host !== undefined && (typeof a.host !== 'string' || a.host === '')) throw new InvalidOptionError(`admin.host must be a non-empty string, got ${String(a.host)}`)
  if (a.token !== undefined && (typeof a.token !== 'string' || a.token.length < 8)) throw new InvalidOptionError('admin.token must be a string of at least 8 characters')
  if (a.openReads !== undefined && typeof a.openReads !== 'boolean') throw new InvalidOptionError(`admin.openReads must be a boolean, got ${String(a.openReads)}`)
  const host = a.host as string | undefined
  if (host !== undefined && !isLoopbackHost(host) && a.token === undefined) {
    throw new InvalidOptionError(`admin.host ${host} is not loopback: the admin API there needs admin.token (at least 8 characters), which every route but /healthz and /readyz then asks for`)
  }
  return { port: a.port as number, host, token: a.token as string | undefined, openReads: a.openReads as boolean | undefined }
}

/** The admin server: add routes, then `listen`. */
export class AdminHttp {
  private readonly routes: Route[] = []
  private server?: Server
  private readonly tokenDigest?: Buffer
  /** Bound off loopback, and reads not opened: every route but the probes asks for the token. */
  private readonly readsNeedToken: boolean

  constructor (private readonly options: AdminOptions, private readonly recordWrite?: RecordWrite) {
    // compared as digests: equal length, constant time, whatever the client sends
    if (options.token !== undefined) this.tokenDigest = digest(options.token)
    this.readsNeedToken = !isLoopbackHost(options.host ?? '127.0.0.1') && options.openReads !== true
  }

  /** A read route; `path` segments starting with `:` are parameters. */
  get (path: string, handle: Route['handle']): void {
    this.routes.push({ method: 'GET', parts: split(path), write: false, handle })
  }

  /** A write route: answered only with the token, and recorded in the audit trail as `action`, with the path's parameters and these `fields` of its body. */
  write (method: 'POST' | 'PUT' | 'DELETE', path: string, action: string, fields: readonly string[], handle: Route['handle']): void {
    this.routes.push({ method, parts: split(path), write: true, handle, audit: { action, fields } })
  }

  /** Starts listening; resolves with the bound address. */
  async listen (): Promise<{ host: string, port: number }> {
    const server = createServer((req, res) => { void this.serve(req, res) })
    // a stuck client keeps a socket, not the node
    server.requestTimeout = 30_000
    server.headersTimeout = 10_000
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    const addr = server.address()
    if (addr === null || typeof addr === 'string') throw new Error('the admin server has no address')
    return { host: addr.address, port: addr.port }
  }

  async close (): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  }

  private async serve (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const abort = new AbortController()
    /** Set for a write: records it in the audit trail as it ends. */
    let ended: ((error: unknown) => void) | undefined
    res.once('close', () => { abort.abort() })
    try {
      const url = new URL(req.url ?? '/', 'http://admin')
      const parts = split(url.pathname)
      const matching = this.routes.filter(r => match(r.parts, parts) !== undefined)
      if (matching.length === 0) throw new HttpError(404, 'NotFound', `no route ${url.pathname}`)
      const route = matching.find(r => r.method === req.method)
      if (route === undefined) {
        res.setHeader('allow', [...new Set(matching.map(r => r.method))].join(', '))
        throw new HttpError(405, 'MethodNotAllowed', `${String(req.method)} is not allowed on ${url.pathname}`)
      }
      const params = match(route.parts, parts) as Record<string, string>
      let body: Record<string, unknown> | undefined
      const audit = route.audit
      if (audit !== undefined && this.recordWrite !== undefined) {
        const record = this.recordWrite
        const address = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`
        let by: WriteBy = { kind: 'no-token', address }
        // recorded once it ended, whichever way: the fields of the body the route reads, and the
        // path's parameters last (a body cannot name another node than the path did)
        ended = (error) => { record(by, audit.action, { ...fieldsOf(body, audit.fields), ...params }, error) }
        this.authorize(req, true)
        by = { kind: 'token', address }
      } else if (route.write || (this.readsNeedToken && !PROBES.has(url.pathname))) this.authorize(req, route.write)
      const result = await route.handle({
        path: url.pathname,
        params,
        query: url.searchParams,
        body: async () => (body = await readJson(req)),
        header: (name) => {
          const v = req.headers[name]
          return Array.isArray(v) ? v[0] : v
        },
        signal: abort.signal
      })
      if (isStream(result)) {
        result.stream(res)
        return
      }
      if (isText(result)) send(res, 200, result.text, result.contentType, result.headers)
      else send(res, 200, JSON.stringify(result ?? null), 'application/json')
      ended?.(undefined)
    } catch (err) {
      ended?.(err)
      const e = err as Error
      const status = err instanceof HttpError ? err.status : STATUS_OF[e?.name] ?? 500
      const extra = err instanceof HttpError ? err.extra : undefined
      send(res, status, JSON.stringify({ error: { name: e?.name ?? 'Error', message: e?.message ?? String(err) }, ...extra }), 'application/json')
    }
  }

  private authorize (req: IncomingMessage, write: boolean): void {
    if (this.tokenDigest === undefined) throw new HttpError(403, 'Forbidden', 'this node was started without an admin token: writes are off')
    const header = req.headers.authorization ?? ''
    const given = header.startsWith('Bearer ') ? header.slice(7) : ''
    const what = write ? 'a write' : 'this route (the admin API is bound off loopback)'
    if (given === '') throw new HttpError(401, 'Unauthorized', `${what} needs the admin token: Authorization: Bearer <token>`)
    if (!timingSafeEqual(digest(given), this.tokenDigest)) throw new HttpError(401, 'Unauthorized', `the token given is not this node's admin token (${what} needs it)`)
  }
}

/** `fields` of a request's body, those it has. */
function fieldsOf (body: Record<string, unknown> | undefined, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of fields) if (body !== undefined && Object.hasOwn(body, f)) out[f] = body[f]
  return out
}

function digest (s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

function split (path: string): string[] {
  return path.split('/').filter(p => p !== '')
}

/** The parameters of `parts` against a route's pattern, or undefined when it does not match. */
function match (pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) {
      let value: string
      try {
        value = decodeURIComponent(parts[i])
      } catch {
        return undefined
      }
      params[pattern[i].slice(1)] = value
    } else if (pattern[i] !== parts[i]) {
      return undefined
    }
  }
  return params
}

function isStream (r: unknown): r is { stream: (res: ServerResponse) => void } {
  return typeof r === 'object' && r !== null && typeof (r as { stream?: unknown }).stream === 'function'
}

function isText (r: unknown): r is { text: string, contentType: string, headers?: Record<string, string> } {
  return typeof r === 'object' && r !== null && typeof (r as { text?: unknown }).text === 'string' && typeof (r as { contentType?: unknown }).contentType === 'string'
}

function send (res: ServerResponse, status: number, body: string, contentType: string, headers?: Record<string, string>): void {
  if (res.headersSent) {
    res.end()
    return
  }
  res.writeHead(status, { ...headers, 'content-type': contentType, 'cache-control': 'no-store' })
  res.end(body)
}

/** The request's JSON object body, read up to {@link MAX_ADMIN_BODY_BYTES}. */
async function readJson (req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_ADMIN_BODY_BYTES) throw new HttpError(413, 'PayloadTooLarge', `a body may hold at most ${MAX_ADMIN_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return {}
  const type = req.headers['content-type'] ?? ''
  if (!type.startsWith('application/json')) throw new HttpError(415, 'UnsupportedMediaType', 'a body must be application/json')
  let value: unknown
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (err) {
    throw new HttpError(400, 'InvalidJson', `the body is not JSON: ${(err as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'InvalidJson', 'the body must be a JSON object')
  return value as Record<string, unknown>
}
