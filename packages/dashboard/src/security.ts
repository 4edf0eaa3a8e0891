// What keeps the dashboard safe to expose to a browser: the response headers every answer carries
// (a strict CSP among them), the CSRF token (double-submit cookie) and the same-origin check that
// every mutating request passes before `authorize` is even asked.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Nothing but the dashboard's own stylesheet may load; no script at all (the pages need none), no
 * framing, forms only to the dashboard itself. A stored payload that slipped through escaping could
 * still not run.
 */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Headers of every response, pages, assets and refusals alike. */
export function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
}

/** The form field that carries the CSRF token. */
export const CSRF_FIELD = 'csrf';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The token cookie's name. Over https it takes the `__Host-` prefix, which browsers accept only
 * from a secure origin, with `Path=/` and no `Domain`: a sibling subdomain cannot plant one.
 */
function cookieName(secure: boolean): string {
  return secure ? '__Host-ironflow-csrf' : 'ironflow-csrf';
}

/** The value of one cookie of the request, or undefined. */
function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get('cookie');
  if (header === null) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** The request's CSRF token and, when it had none (or a malformed one), the cookie that sets a new one. */
export interface CsrfSession {
  readonly token: string;
  readonly setCookie?: string | undefined;
}

/** True when the request came over https (as the handler sees its URL). */
export const isSecure = (url: URL): boolean => url.protocol === 'https:';

/** The token of the request's cookie, or a new one to set. `path` is the dashboard's base path. */
export function csrfSession(request: Request, url: URL, path: string): CsrfSession {
  const secure = isSecure(url);
  const existing = readCookie(request, cookieName(secure));
  if (existing !== undefined && TOKEN.test(existing)) return { token: existing };
  const token = randomBytes(32).toString('base64url');
  // HttpOnly as well: no script reads it, the server writes it into each form.
  const attributes = [`${cookieName(secure)}=${token}`, `Path=${secure ? '/' : path || '/'}`, 'SameSite=Strict', 'HttpOnly'];
  if (secure) attributes.push('Secure');
  return { token, setCookie: attributes.join('; ') };
}

/** True when the form's token is the one of the request's cookie (compared in constant time). */
export function csrfMatches(request: Request, url: URL, submitted: string | undefined): boolean {
  const cookie = readCookie(request, cookieName(isSecure(url)));
  if (cookie === undefined || submitted === undefined || !TOKEN.test(cookie) || !TOKEN.test(submitted)) return false;
  return timingSafeEqual(Buffer.from(cookie), Buffer.from(submitted));
}

/**
 * Why a mutating request does not come from the dashboard's own pages, or undefined when it may.
 * Browsers send `Sec-Fetch-Site` on every form POST, computed by the browser itself: when present
 * it decides. Older browsers send only `Origin`: its host must be the request's, and its scheme the
 * same, or https where the handler sees http (TLS ended by a proxy in front). A client that sends
 * neither (curl, a script) is not a browser an attacker's page can drive; it still needs the token.
 */
export function crossSiteReason(request: Request, url: URL): string | undefined {
  const site = request.headers.get('sec-fetch-site');
  if (site !== null) return site === 'same-origin' ? undefined : `the request came from another site (Sec-Fetch-Site: ${site})`;
  const origin = request.headers.get('origin');
  if (origin === null) return undefined;
  let from: URL | undefined;
  try {
    from = new URL(origin);
  } catch {
    from = undefined;
  }
  const sameScheme = from !== undefined && (from.protocol === url.protocol || (from.protocol === 'https:' && url.protocol === 'http:'));
  if (from === undefined || from.host !== url.host || !sameScheme) return `the request came from another origin (Origin: ${origin})`;
  return undefined;
}

/** A stylesheet or script served with its Subresource Integrity hash and a name that changes with it. */
export interface Asset {
  readonly name: string;
  readonly type: string;
  readonly body: string;
  /** `sha256-…`, for the `integrity` attribute. */
  readonly integrity: string;
}

/** Names an asset by its content hash, so it can be cached for a year. */
export function asset(base: string, extension: string, type: string, body: string): Asset {
  const digest = createHash('sha256').update(body).digest();
  return { name: `${base}.${digest.toString('hex').slice(0, 12)}.${extension}`, type, body, integrity: `sha256-${digest.toString('base64')}` };
}
