/** What the browser script reads from the page's JSON block (assets/graphiql/graphiql-init.js). */
export interface GraphiqlPageConfig {
  endpoint: string;
  subscriptionEndpoint: string;
  defaultQuery: string;
  defaultHeaders: string;
}

export interface GraphiqlPageInput {
  title: string;
  config: GraphiqlPageConfig;
  stylesheets: readonly string[];
  scripts: readonly string[];
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML text node or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON that is safe inside <script type="application/json">: `<` is escaped so no value can close
 * the element, and U+2028/U+2029 are escaped for older parsers.
 */
export function jsonForScriptBlock(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The IDE page. It carries no inline script or style: configuration travels in a JSON data block
 * (not executed), so `script-src 'self'` is enough.
 */
export function renderGraphiqlPage(input: GraphiqlPageInput): string {
  const links = input.stylesheets.map((href) => `    <link rel="stylesheet" href="${escapeHtml(href)}" />`);
  const scripts = input.scripts.map((src) => `    <script src="${escapeHtml(src)}" defer></script>`);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '  <head>',
    '    <meta charset="utf-8" />',
    '    <meta name="viewport" content="width=device-width, initial-scale=1" />',
    '    <meta name="robots" content="noindex" />',
    // An empty icon: saves the browser a /favicon.ico request that would end in 404.
    '    <link rel="icon" href="data:," />',
    `    <title>${escapeHtml(input.title)}</title>`,
    ...links,
    `    <script type="application/json" id="graphiql-config">${jsonForScriptBlock(input.config)}</script>`,
    ...scripts,
    '  </head>',
    '  <body>',
    '    <div id="graphiql">Loading the GraphQL IDE...</div>',
    '    <noscript>The GraphQL IDE needs JavaScript.</noscript>',
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}
