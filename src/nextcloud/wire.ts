// The HTTP exchange under send() (http.ts) when no fetch is injected: node:http(s) over keep-alive
// agents, answering the request as fetch would (the same default headers, gzip/deflate decoded, no
// redirects followed, the body read within a size limit). fetch's WHATWG streams and header objects
// cost about 0.15 ms of CPU per call, a sixth of a whole tools/call through the gateway.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { NextcloudError } from "./errors.ts";

/** One request as send() makes it. */
export interface WireRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array | undefined;
  readonly signal: AbortSignal;
  /** Largest body accepted, in bytes (after decoding). */
  readonly limit: number;
  /** Names the resource in the too-large error. */
  readonly what: string;
  /** Whether a request that found its kept-alive connection closed may be sent once more. */
  readonly idempotent: boolean;
}

/** A response read in full; its headers as node gives them (name, value, name, value, …). */
export interface WireResponse {
  readonly status: number;
  readonly rawHeaders: readonly string[];
  readonly body: Uint8Array;
}

// Idle connections are closed after 4 s, before the usual server keep-alive timeouts (Apache's 5 s,
// nginx's 75 s), so that a request rarely meets a connection the server is closing.
const IDLE_MS = 4000;
const agents = {
  "http:": new HttpAgent({ keepAlive: true, timeout: IDLE_MS }),
  "https:": new HttpsAgent({ keepAlive: true, timeout: IDLE_MS }),
};

const SSL_REASON = /SSL routines:[^:]*:([^:]+):/;

// What fetch (undici) sends unless told otherwise; Nextcloud has always seen these.
const DEFAULT_HEADERS: Readonly<Record<string, string>> = {
  accept: "*/*",
  "accept-language": "*",
  "sec-fetch-mode": "cors",
  "user-agent": "node",
  "accept-encoding": "gzip, deflate",
};

/**
 * Sends `req` to `url` and reads the whole answer. Rejects with the socket's error (its `code` says
 * what failed: ECONNREFUSED, ENOTFOUND, a TLS code) or the signal's abort, and with a
 * `too_large` NextcloudError past the limit.
 */
export async function exchange(url: URL, req: WireRequest): Promise<WireResponse> {
  try {
    return await attempt(url, req);
  } catch (err) {
    // A kept-alive connection the server closed just as it was reused: once more on a new one, as
    // node's documentation advises (only for requests that may be repeated).
    if (req.idempotent && (err as { reusedSocket?: boolean }).reusedSocket === true && !req.signal.aborted) {
      return attempt(url, req);
    }
    throw err;
  }
}

function attempt(url: URL, req: WireRequest): Promise<WireResponse> {
  const headers: Record<string, string> = { ...DEFAULT_HEADERS };
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  const body = typeof req.body === "string" ? Buffer.from(req.body) : req.body;
  if (typeof req.body === "string" && headers["content-type"] === undefined) {
    headers["content-type"] = "text/plain;charset=UTF-8";
  }
  if (body !== undefined) headers["content-length"] = String(body.byteLength);
  else if (req.method === "POST" || req.method === "PUT") headers["content-length"] = "0";
  const secure = url.protocol === "https:";
  return new Promise<WireResponse>((resolve, reject) => {
    const outgoing = (secure ? httpsRequest : httpRequest)(url, {
      method: req.method,
      headers,
      agent: agents[secure ? "https:" : "http:"],
      signal: req.signal,
    });
    outgoing.once("error", (err: Error & { code?: string; reusedSocket?: boolean }) => {
      if (outgoing.reusedSocket && err.code === "ECONNRESET") err.reusedSocket = true;
      // A TLS failure while writing comes as EPROTO with OpenSSL's reason in the message; name it
      // as fetch did (ERR_SSL_WRONG_VERSION_NUMBER, …) so that the user reads "TLS: …".
      const reason = err.code === "EPROTO" ? SSL_REASON.exec(err.message)?.[1] : undefined;
      if (reason !== undefined) err.code = `ERR_SSL_${reason.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}`;
      reject(err);
    });
    outgoing.once("response", (res) => {
      read(res, req).then(
        (bytes) => {
          resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body: bytes });
        },
        (err: unknown) => {
          outgoing.destroy();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
    outgoing.end(body);
  });
}

/** The fetch `Headers` of a node response's raw header list. */
export function toHeaders(raw: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] ?? "", raw[i + 1] ?? "");
  return headers;
}

async function read(res: IncomingMessage, req: WireRequest): Promise<Uint8Array> {
  const declared = Number(res.headers["content-length"] ?? NaN);
  if (declared > req.limit) throw tooLarge(req);
  let stream: Readable = res;
  const encoding = res.headers["content-encoding"]?.trim().toLowerCase();
  if (encoding === "gzip" || encoding === "x-gzip") stream = res.pipe(createGunzip());
  else if (encoding === "deflate") stream = res.pipe(createInflate());
  else if (encoding === "br") stream = res.pipe(createBrotliDecompress());
  if (stream !== res) res.once("error", (err) => stream.destroy(err));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > req.limit) {
      stream.destroy();
      throw tooLarge(req);
    }
    chunks.push(chunk);
  }
  // A body of its own (node's chunks may be views into shared memory), as fetch's path gives.
  return joinChunks(chunks, size);
}

/** `chunks` (`size` bytes in all) copied into one new array. */
export function joinChunks(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function tooLarge(req: WireRequest): NextcloudError {
  return new NextcloudError(
    "too_large",
    `${req.what} is larger than the ${String(req.limit)} bytes allowed.`,
  );
}
