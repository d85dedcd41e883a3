import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'

/** Debian's Chromium; playwright-core ships no browser of its own. */
export const CHROMIUM = '/usr/bin/chromium'

// Running as root needs --no-sandbox; the rest keep Chromium from calling home or
// spending time on things a test never looks at.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

/** A headless page and the way to get rid of it. */
export interface OpenBrowser {
  page: Page
  /** Closes Chromium and removes its profile directory; calling it twice is harmless. */
  close: () => Promise<void>
}

/** Whether Chromium is installed, so a test can skip (and say why) when it is not. */
export function browserAvailable (): boolean {
  return existsSync(CHROMIUM)
}

/**
 * Launches headless Chromium with a fresh, empty profile and opens one page (1280×800 unless
 * told). The profile goes through launchPersistentContext: playwright refuses --user-data-dir
 * in `args`.
 *
 * @example
 * ```ts
 * const title = browserAvailable() ? 'drains a node from the page' : `drains a node from the page (skipped: no ${CHROMIUM})`
 * ;(browserAvailable() ? it : it.skip)(title, async () => {
 *   const { page, close } = await openBrowser()
 *   try { await page.goto(url) } finally { await close() }
 * })
 * ```
 */
export async function openBrowser (options: { width?: number, height?: number } = {}): Promise<OpenBrowser> {
  const dir = await mkdtemp(join(tmpdir(), 'simplepool-chromium-'))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: options.width ?? 1280, height: options.height ?? 800 }
    })
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  const page = context.pages()[0] ?? await context.newPage()
  let closed = false
  const close = async (): Promise<void> => {
    // the first call does the work (and reports its error); later ones have nothing to do
    if (closed) return
    closed = true
    try {
      await context.close()
    } finally {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 })
    }
  }
  return { page, close }
}
