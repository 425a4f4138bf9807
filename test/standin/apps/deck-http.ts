// The plumbing of the stand-in's Deck routes: Deck's `{status, message}` errors, JSON bodies, ETags
// with If-None-Match, If-Modified-Since, and one route per path with handlers by method (every Deck
// REST route is #[CORS]).
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody, sendJson } from "../respond.ts";
import { badRequest, DeckError } from "./deck-store.ts";
import type { AppRequest, AppRoute } from "./types.ts";

export const API = String.raw`^\/apps\/deck\/api\/v(1\.[01])`;
export const now = () => Math.floor(Date.now() / 1000);

export type Json = Record<string, unknown>;
export type Handler = (r: AppRequest, body: Json) => Promise<void> | void;

export async function jsonBody(req: IncomingMessage): Promise<Json> {
  if (req.method === "GET" || req.method === "DELETE") return {};
  const ct = req.headers["content-type"] ?? "";
  if (!ct.includes("application/json")) return {};
  const text = (await readBody(req)).toString("utf8");
  if (text === "") return {};
  const parsed = JSON.parse(text) as unknown;
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : {};
}

function fail(res: ServerResponse, err: unknown): void {
  if (err instanceof DeckError) sendJson(res, err.status, { status: err.status, message: err.message });
  else throw err;
}

/** One path pattern, its handlers by method; every Deck REST route is #[CORS]. */
export function route(path: string, methods: Partial<Record<string, Handler>>): AppRoute {
  return {
    pattern: new RegExp(`${API}${path}$`),
    cors: true,
    async handle(r) {
      const h = methods[r.req.method ?? "GET"];
      if (h === undefined) {
        sendJson(r.res, 405, { message: "Method not allowed" });
        return;
      }
      try {
        await h(r, await jsonBody(r.req));
      } catch (err) {
        fail(r.res, err);
      }
    },
  };
}

/** Answers with an ETag, or 304 when the client's If-None-Match still matches. */
export function withEtag(r: AppRequest, etag: string, body: unknown): void {
  const quoted = `"${etag}"`;
  const inm = r.req.headers["if-none-match"];
  if (inm !== undefined && inm.split(",").some((t) => t.trim() === quoted || t.trim() === etag)) {
    r.res.writeHead(304, { ETag: quoted });
    r.res.end();
    return;
  }
  sendJson(r.res, 200, body, { ETag: quoted });
}

/** `If-Modified-Since` as Deck parses it; 400 "Invalid If-Modified-Since header provided." otherwise. */
export function since(req: IncomingMessage): number {
  const h = req.headers["if-modified-since"];
  if (h === undefined || h === "") return 0;
  const t = Date.parse(h);
  if (Number.isNaN(t)) throw badRequest("Invalid If-Modified-Since header provided.");
  return Math.floor(t / 1000);
}

export const num = (m: RegExpExecArray, i: number) => Number(m[i]);
export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
export const isoOrNull = (v: unknown): string | null => {
  if (typeof v !== "string" || v === "") return null;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw badRequest("Invalid date");
  return d.toISOString().replace(/\.\d{3}Z$/, "+00:00");
};

export function md5(s: string): string {
  return createHash("md5").update(s).digest("hex");
}
