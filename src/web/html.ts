// Server-rendered HTML without a template engine: a tagged template that escapes every value
// unless it is already Html, and the one page layout with its security headers.

/** Markup that is safe to insert as is. */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

type Interpolation = Html | string | number | null | undefined | false | readonly Interpolation[];

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return (value as readonly Interpolation[]).map(render).join("");
  return escapeHtml(String(value));
}

/** `html\`<p>${text}</p>\``: every interpolated value is escaped unless it is Html. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

const STYLE = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { margin: 0 auto; max-width: 46rem; padding: 1.5rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #8884; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; align-items: center; margin-top: 1rem; }
.button, button { font: inherit; padding: .45rem 1rem; border-radius: .35rem; border: 1px solid #1a5fb4; background: #1a5fb4; color: #fff; text-decoration: none; cursor: pointer; }
.secondary { background: transparent; color: inherit; border-color: #888; }
.danger { background: #a51d2d; border-color: #a51d2d; }
.notice { padding: .6rem 1rem; border-left: .3rem solid #1a5fb4; background: #1a5fb41a; }
.error { border-left-color: #a51d2d; background: #a51d2d1a; }
caption.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
a:focus-visible, button:focus-visible { outline: 3px solid #f6d32d; outline-offset: 2px; }
`;

/** A whole page: language, title, one <main>, the stylesheet under the response's CSP nonce. */
export function page(title: string, body: Html, styleNonce: string): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>${title} · Nextcloud MCP gateway</title>
        <style nonce="${styleNonce}">
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <main>${body}</main>
      </body>
    </html> `.value;
}

/**
 * Headers of every page: no caching, no framing, nothing but the inline style of this response.
 * Forms post to this origin only; `formRedirects` adds origins a form's answer may redirect to
 * (browsers apply form-action to redirects: the grant button's POST continues at the IdP).
 */
export function pageHeaders(
  styleNonce: string,
  formRedirects: readonly string[] = [],
): Record<string, string> {
  const formAction = ["'self'", ...formRedirects].join(" ");
  return {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": `default-src 'none'; style-src 'nonce-${styleNonce}'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    // same-origin: form posts then carry a real Origin header (no-referrer makes it "null").
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  };
}
