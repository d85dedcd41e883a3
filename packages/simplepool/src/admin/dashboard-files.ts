/**
 * The dashboard's files: one static page (packages/simplepool/dashboard, no build step)
 * and uPlot, its chart library, from its npm package. Only these names are served, read
 * once and kept: nothing a client asks for reaches the file system by its own path.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { ServerResponse } from 'node:http'
import type { AdminHttp } from './http-server.js'
import { HttpError } from './http-server.js'

/**
 * The package's own directory, found by resolving its name rather than from this file's
 * place: the file may be bundled elsewhere (as the test harness bundles its nodes).
 */
function packageDir (): string {
  return dirname(createRequire(import.meta.url).resolve('simplepool/package.json'))
}

/** Served name → where it is and what it is. */
function files (): Map<string, { path: () => string, type: string }> {
  const page = (name: string): string => join(packageDir(), 'dashboard', name)
  // uPlot's package main is in its dist directory, beside the files the page loads
  const uplot = (): string => dirname(createRequire(join(packageDir(), 'package.json')).resolve('uplot'))
  // a Map: a name such as __proto__ or constructor is just not there
  return new Map([
    ['index.html', { path: () => page('index.html'), type: 'text/html; charset=utf-8' }],
    ['app.js', { path: () => page('app.js'), type: 'text/javascript; charset=utf-8' }],
    ['app.css', { path: () => page('app.css'), type: 'text/css; charset=utf-8' }],
    ['uPlot.iife.min.js', { path: () => join(uplot(), 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' }],
    ['uPlot.min.css', { path: () => join(uplot(), 'uPlot.min.css'), type: 'text/css; charset=utf-8' }]
  ])
}

/**
 * The page loads nothing but its own files and talks only to its own server; no other
 * site may frame it (a framed page could be clicked into a drain). uPlot sets inline
 * styles, hence 'unsafe-inline' for styles only.
 */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer'
}

/** Adds the dashboard's routes: `/` and `/dashboard` redirect to `/dashboard/`, which serves the page and its files. */
export function addDashboardRoutes (http: AdminHttp): void {
  const known = files()
  const cache = new Map<string, string>()
  const serve = async (name: string): Promise<{ text: string, contentType: string, headers: Record<string, string> }> => {
    const f = known.get(name)
    if (f === undefined) throw new HttpError(404, 'NotFound', `no dashboard file ${name}`)
    let text = cache.get(name)
    if (text === undefined) {
      try {
        text = await readFile(f.path(), 'utf8')
      } catch (err) {
        // the package was installed without its page, or bundled away from it
        throw new HttpError(500, 'DashboardMissing', `the dashboard's ${name} is not where the simplepool package should have it (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`)
      }
      cache.set(name, text)
    }
    return { text, contentType: f.type, headers: PAGE_HEADERS }
  }
  // relative, so a proxy that serves the API under a prefix keeps it
  const redirect = (res: ServerResponse): void => {
    res.writeHead(302, { location: 'dashboard/' })
    res.end()
  }
  http.get('/', async () => ({ stream: redirect }))
  // the page's own files are relative to it: without the slash they would miss
  http.get('/dashboard', async ({ path }) => path.endsWith('/') ? await serve('index.html') : { stream: redirect })
  http.get('/dashboard/:file', async ({ params }) => await serve(params.file))
}
