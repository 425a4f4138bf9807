// Small response helpers shared by the stand-in's route handlers, and Nextcloud's 401 bodies.
import type { IncomingMessage, ServerResponse } from "node:http";

/** Reads a request body (the stand-in is a test fixture: bodies stay small). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Sends JSON with the given status and headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Sends a Sabre-style DAV error (`<d:error>` with exception and message). */
export function sendSabreError(
  res: ServerResponse,
  status: number,
  exception: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const xml =
    `<?xml version="1.0" encoding="utf-8"?>\n<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n` +
    `  <s:exception>Sabre\\DAV\\Exception\\${exception}</s:exception>\n  <s:message>${escapeXml(message)}</s:message>\n</d:error>\n`;
  res.writeHead(status, { "Content-Type": "application/xml; charset=utf-8", ...headers });
  res.end(xml);
}

/** WebDAV's answer to a missing or refused bearer token (Nextcloud advertises only Basic). */
export function sendDavUnauthorized(res: ServerResponse): void {
  sendSabreError(
    res,
    401,
    "NotAuthenticated",
    "No public access to this resource., No 'Authorization: Basic' header found. Either the client didn't send one, or the server is misconfigured",
    { "WWW-Authenticate": 'Basic realm="Nextcloud", charset="UTF-8"' },
  );
}

/** Escapes text for XML content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${String(c.charCodeAt(0))};`);
}
