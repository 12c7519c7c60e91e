/**
 * Which browser origins may call the API and open sockets: always the server's own origin
 * (the one the request's Host names), plus, with CORS_ORIGINS set, exactly those (or any,
 * with `*`); without it, any localhost origin outside production so that a dev client on
 * another port works out of the box. Same-origin passes even with CORS_ORIGINS because
 * native clients (Python's websocket-client) send an Origin equal to the address they dial,
 * and a page served by this server is same-origin by definition.
 * A request without Origin (native apps, servers, curl) is not a browser and is allowed;
 * its token authenticates it.
 */
export type OriginPolicy = (origin: string | undefined, host: string | undefined) => boolean;

const LOCALHOST = new Set(['localhost', '127.0.0.1', '[::1]']);

export function createOriginPolicy(corsOrigins: string[] | null, production: boolean): OriginPolicy {
  const allowed = new Set((corsOrigins ?? []).map((o) => withoutTrailingSlashes(o).toLowerCase()));
  const any = allowed.has('*');
  return (origin, host) => {
    if (origin === undefined) return true;
    const normalized = origin.toLowerCase();
    if (any || allowed.has(normalized)) return true;
    let url: URL;
    try {
      url = new URL(normalized);
    } catch {
      return false;
    }
    if (host !== undefined && url.host === host.toLowerCase()) return true;
    if (corsOrigins !== null) return false;
    return !production && LOCALHOST.has(url.hostname);
  };
}

/** `/\/+$/` would be quadratic on a long run of slashes; a loop is linear. */
function withoutTrailingSlashes(value: string): string {
  let end = value.length;
  while (end > 0 && value[end - 1] === '/') end--;
  return value.slice(0, end);
}
