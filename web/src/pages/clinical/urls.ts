// Signed file URLs come absolute, on the server's PUBLIC_URL. The console is served by that same server, but the
// browser may have reached it under another name (127.0.0.1 for localhost, a proxy's host): the strict CSP
// (img-src 'self') would then refuse the images, and a canvas could not read a mask. The signature covers the
// path and query only, so the console asks its own origin for the same path.
export function sameOrigin(url: string): string {
  try {
    const u = new URL(url, window.location.href);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}
