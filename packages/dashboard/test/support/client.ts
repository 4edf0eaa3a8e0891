// A browser-less client of a dashboard handler: it keeps the CSRF cookie as a browser would and
// reads the token from the pages' forms, so tests can send the requests a page sends, and others.
import type { Dashboard } from '../../src/index.js';

export const ORIGIN = 'http://dashboard.test';

export interface Client {
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** Sends a form as the page does: same-origin headers, the cookie, and the page's token unless `fields` sets `csrf`. */
  post(path: string, fields?: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
  /** The token of the last page read. */
  readonly token: string | undefined;
  readonly cookie: string | undefined;
}

export function client(dashboard: Dashboard, origin = ORIGIN): Client {
  let cookie: string | undefined;
  let token: string | undefined;
  const remember = async (response: Response): Promise<Response> => {
    for (const set of response.headers.getSetCookie()) cookie = set.split(';')[0];
    const type = response.headers.get('content-type') ?? '';
    if (type.startsWith('text/html')) {
      const text = await response.clone().text();
      const found = /name="csrf" value="([^"]+)"/.exec(text);
      if (found) token = found[1];
    }
    return response;
  };
  const withCookie = (headers: Record<string, string>) => (cookie === undefined ? headers : { cookie, ...headers });
  return {
    get: async (path, headers = {}) => remember(await dashboard(new Request(`${origin}${path}`, { headers: withCookie(headers) }))),
    post: async (path, fields = {}, headers = {}) => {
      const body = new URLSearchParams({ ...(token === undefined ? {} : { csrf: token }), ...fields });
      const request = new Request(`${origin}${path}`, {
        method: 'POST',
        body,
        headers: withCookie({ origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded', ...headers }),
      });
      return remember(await dashboard(request));
    },
    get token() {
      return token;
    },
    get cookie() {
      return cookie;
    },
  };
}
