import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { escapeHtml } from '../mail/mail-templates';

/** Markup that is already safe: what `markup` returns. Anything else interpolated into `markup` is escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * A template tag that escapes every interpolated value (except nested `markup` fragments). Not named
 * `html` so that Prettier leaves the markup as written (the stylesheet's CSP hash depends on it).
 */
export function markup(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, s, i) => out + render(values[i - 1]) + s));
}

const STYLE = [
  'body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#222}',
  'h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}',
  'input[type=password]{width:100%;padding:.4rem;font-size:1rem;box-sizing:border-box}',
  'button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}',
  '.error{color:#a00}.done{color:#060}.hint{color:#555;font-size:.9rem}',
].join('');

/**
 * Nothing but this page's own stylesheet (by hash) and forms posting back to this server: no
 * script, no frames, no other origin. With `Referrer-Policy: no-referrer` the token in the link's
 * query string never leaves in a Referer header.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Sends a whole page, with the headers every account page carries. */
export function sendPage(res: Response, status: number, title: string, body: SafeHtml): void {
  res
    .status(status)
    .set({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': PAGE_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    })
    .send(
      markup`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${title} - Dermagraph</title><style>${new SafeHtml(STYLE)}</style></head>
<body><h1>${title}</h1>
${body}
</body></html>
`.value,
    );
}
