import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'

export interface ConsolePage {
  html: string
  /** Allows the page's own inline script and style and same-origin requests, nothing else. */
  contentSecurityPolicy: string
}

const ASSETS = new URL('../assets/', import.meta.url)

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`
}

/**
 * The page: `assets/console.html` with `console.css` and `console.js` inlined (one request, no CDN,
 * no font), its settings in a `<meta>` tag, and a CSP that pins the inline code by hash.
 */
export async function buildPage(settings: { prefix: string; refreshMs: number; title: string }): Promise<ConsolePage> {
  const [template, css, js] = await Promise.all(
    ['console.html', 'console.css', 'console.js'].map((file) => readFile(new URL(file, ASSETS), 'utf8')),
  )
  const html = (template as string)
    .replaceAll('__TITLE__', escapeAttribute(settings.title))
    .replace('__SETTINGS__', escapeAttribute(JSON.stringify(settings)))
    .replace('/*__CSS__*/', () => css as string)
    .replace('/*__JS__*/', () => js as string)
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${sha256(js as string)}`,
    `style-src ${sha256(css as string)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
  return { html, contentSecurityPolicy }
}
