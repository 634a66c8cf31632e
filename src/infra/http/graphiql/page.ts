/** What the browser script reads from the page's JSON block (web/graphiql/main.tsx). */
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
  /** The entry module's URL. */
  script: string;
  /** URLs of the modules it imports, fetched in parallel with it. */
  preloads: readonly string[];
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
  const preloads = input.preloads.map((href) => `    <link rel="modulepreload" href="${escapeHtml(href)}" />`);
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
    ...preloads,
    `    <script type="application/json" id="graphiql-config">${jsonForScriptBlock(input.config)}</script>`,
    // A module script runs after the document is parsed, when #graphiql and the data block exist.
    `    <script type="module" src="${escapeHtml(input.script)}"></script>`,
    '  </head>',
    '  <body>',
    '    <div id="graphiql">Loading the GraphQL IDE...</div>',
    '    <noscript>The GraphQL IDE needs JavaScript.</noscript>',
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}
