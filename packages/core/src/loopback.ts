/** True when `host` (a name or an IP address, no port) names this machine's loopback interface only; a wildcard (`0.0.0.0`, `::`) does not. */
export function isLoopbackHost (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
