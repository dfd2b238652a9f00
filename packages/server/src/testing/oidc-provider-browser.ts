/**
 * Test support: a browser made of plain fetch — a cookie jar (name, path; every test server is on 127.0.0.1,
 * and browsers share cookies across ports), manual redirects, and HTML form submission — enough to walk a
 * person through an OpenID Connect provider's login pages.
 */

interface StoredCookie {
  value: string;
  path: string;
}

export interface PageResponse {
  url: string;
  status: number;
  location?: string;
  body: string;
  setCookies: string[];
}

export class FetchBrowser {
  readonly cookies = new Map<string, StoredCookie>();

  cookieHeader(url: string): string {
    const path = new URL(url).pathname;
    return [...this.cookies]
      .filter(
        ([, cookie]) =>
          path === cookie.path || path.startsWith(cookie.path.endsWith("/") ? cookie.path : `${cookie.path}/`),
      )
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join("; ");
  }

  private remember(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = "/";
      let expired = value === "";
      for (const attribute of attributes) {
        const [key = "", val = ""] = attribute.split("=").map((part) => part.trim());
        if (key.toLowerCase() === "path") path = val;
        if (key.toLowerCase() === "max-age" && Number(val) <= 0) expired = true;
        if (key.toLowerCase() === "expires" && Date.parse(val) <= Date.now()) expired = true;
      }
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }

  /** One request, redirects not followed. */
  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<PageResponse> {
    const headers: Record<string, string> = { "user-agent": "slipway-oidc-test" };
    const cookie = this.cookieHeader(url);
    if (cookie !== "") headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(url, {
      method: init.method ?? (init.form ? "POST" : "GET"),
      headers,
      redirect: "manual",
      ...(body === undefined ? {} : { body }),
    });
    const setCookies = response.headers.getSetCookie();
    this.remember(setCookies);
    const location = response.headers.get("location");
    return {
      url,
      status: response.status,
      ...(location === null ? {} : { location: new URL(location, url).href }),
      body: await response.text(),
      setCookies,
    };
  }

  /**
   * Follows redirects from `url` until a page that is not a redirect, or until the next URL satisfies `stopAt`
   * (returned without being requested: the test decides what to do with, say, the callback URL).
   */
  async follow(
    url: string,
    options: { form?: Record<string, string>; stopAt?: (url: string) => boolean } = {},
  ): Promise<PageResponse | { stoppedAt: string }> {
    let page = await this.request(url, options.form ? { form: options.form } : {});
    for (let hops = 0; page.location !== undefined && page.status >= 300 && page.status < 400; hops++) {
      if (hops > 20) throw new Error(`too many redirects from ${url}`);
      if (options.stopAt?.(page.location)) return { stoppedAt: page.location };
      page = await this.request(page.location);
    }
    return page;
  }

  /** The first POST form of a page: its absolute action URL and its hidden fields. */
  static form(page: PageResponse): { action: string; fields: Record<string, string> } {
    const form = /<form\b[^>]*>[\s\S]*?<\/form>/i.exec(page.body)?.[0];
    if (form === undefined) throw new Error(`no form on ${page.url} (HTTP ${page.status}): ${page.body.slice(0, 500)}`);
    const action = /\baction="([^"]*)"/i.exec(form)?.[1] ?? page.url;
    const fields: Record<string, string> = {};
    for (const input of form.match(/<input\b[^>]*>/gi) ?? []) {
      if (!/type="hidden"/i.test(input)) continue;
      const name = /\bname="([^"]*)"/i.exec(input)?.[1];
      const value = /\bvalue="([^"]*)"/i.exec(input)?.[1] ?? "";
      if (name !== undefined) fields[name] = value;
    }
    return { action: new URL(action.replace(/&amp;/g, "&"), page.url).href, fields };
  }
}
