// Small pieces of HTTP the handler shares: the error a route raises to answer 400/403/404 with a
// page, reading a form body with a size limit, and safe redirect targets.

/** Raised by a route to answer with an error page of this status; the message is shown as is. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 405 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Largest form body accepted: the dashboard's forms send a token, a reason and a path. */
export const MAX_FORM_BYTES = 16 * 1024;

/** Reads an `application/x-www-form-urlencoded` body (without consuming `request`'s own). */
export async function readForm(request: Request): Promise<URLSearchParams> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new HttpError(415, 'actions take the form the dashboard pages send (application/x-www-form-urlencoded)');
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_FORM_BYTES) throw new HttpError(413, `the form is larger than ${MAX_FORM_BYTES} bytes`);
  const body = request.clone().body;
  if (body === null) return new URLSearchParams();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_FORM_BYTES) {
      // Not awaited: cancelling one branch of a cloned body settles only once the other is cancelled too.
      reader.cancel().catch(() => undefined);
      throw new HttpError(413, `the form is larger than ${MAX_FORM_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return new URLSearchParams(new TextDecoder().decode(Buffer.concat(chunks)));
}

/**
 * `target` when it is a path inside the dashboard (so a form cannot send the browser elsewhere),
 * else `fallback`.
 */
export function safeReturn(target: string | null, base: string, fallback: string): string {
  if (target === null || target.length > 2048) return fallback;
  // Not `//host` or `/\host` (which browsers read as another host), no control characters.
  if (!/^\/(?![/\\])/.test(target) || /[\u0000-\u001f\\]/.test(target)) return fallback;
  const inside = base === '' || target === base || target.startsWith(`${base}/`) || target.startsWith(`${base}?`);
  return inside ? target : fallback;
}

/** `path` with `name=value` added to its query. */
export function withParam(path: string, name: string, value: string): string {
  const hash = path.indexOf('#');
  const bare = hash === -1 ? path : path.slice(0, hash);
  const params = new URLSearchParams(bare.includes('?') ? bare.slice(bare.indexOf('?') + 1) : '');
  params.set(name, value);
  return `${bare.includes('?') ? bare.slice(0, bare.indexOf('?')) : bare}?${params.toString()}`;
}
