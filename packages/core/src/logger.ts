/**
 * Where a service reports what an operator should see. Injected, so tests and the
 * harness can capture it; the default writes warnings and errors to stderr.
 */
export interface Logger {
  debug: (msg: string, ...args: unknown[]) => void
  info: (msg: string, ...args: unknown[]) => void
  warn: (msg: string, ...args: unknown[]) => void
  error: (msg: string, ...args: unknown[]) => void
}

function line (level: string, prefix: string, msg: string, args: unknown[]): string {
  const rest = args.map(a => a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : JSON.stringify(a)).join(' ')
  return `${new Date().toISOString()} ${level} ${prefix}${msg}${rest.length > 0 ? ' ' + rest : ''}\n`
}

/**
 * A logger on stderr. Debug and info lines appear only when `SIMPLEPOOL_LOG` is `debug`
 * or `info`; warnings and errors always do.
 */
export function consoleLogger (prefix = ''): Logger {
  const level = process.env.SIMPLEPOOL_LOG ?? 'warn'
  const p = prefix.length > 0 ? `[${prefix}] ` : ''
  const write = (lvl: string, msg: string, args: unknown[]): void => { process.stderr.write(line(lvl, p, msg, args)) }
  return {
    debug: level === 'debug' ? (m, ...a) => { write('DEBUG', m, a) } : () => {},
    info: level === 'debug' || level === 'info' ? (m, ...a) => { write('INFO', m, a) } : () => {},
    warn: (m, ...a) => { write('WARN', m, a) },
    error: (m, ...a) => { write('ERROR', m, a) }
  }
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }
