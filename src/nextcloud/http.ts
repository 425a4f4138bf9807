// Every HTTP call to Nextcloud: bearer token, `OCS-APIRequest: true`, a timeout through AbortSignal,
// a response size limit, and retries with jittered backoff only for idempotent requests on 429/503.
// Every request passes the guard (guard.ts) before its first byte is sent.
import { bearerRefused, errorFromResponse, NextcloudError, parseRetryAfter } from "./errors.ts";
import { guardRequest } from "./guard.ts";
import { exchange, joinChunks, toHeaders } from "./wire.ts";
import type { RouteClass, RouteProbe } from "./routes.ts";

/** How to reach one Nextcloud as one user. */
export interface NextcloudClientOptions {
  /** e.g. https://cloud.example.com (no trailing slash needed). */
  baseUrl: string;
  /** The user's Nextcloud-audience token; called for every request so it may rotate. */
  token: () => Promise<string> | string;
  /** Bound on every request, including reading the body and any retries after 429/503. */
  timeoutMs: number;
  /** Largest response body accepted, in bytes (default 10 MiB). */
  maxResponseBytes?: number;
  /** Retries for idempotent requests on 429/503 (default 2). */
  retries?: number;
  /** Longest wait before a retry; a longer Retry-After fails at once (default 5 s). */
  maxRetryDelayMs?: number;
  /** Injected fetch (tests, proxies); node:http(s) with keep-alive otherwise (wire.ts). */
  fetch?: typeof fetch;
  /** The memory of route classes refused by this instance (routes.ts); createNextcloudClient sets the shared one. */
  routes?: RouteProbe;
}

/** One request; `what` names the resource for error messages. */
export interface NextcloudRequest {
  method: string;
  /** Path below baseUrl, starting with "/", with its query string (already encoded). */
  path: string;
  /** For a request into a per-user DAV tree: the root (from davRoot) that it and its Destination must stay under. */
  root?: string;
  what: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Statuses that are not errors for this call (e.g. 207, 304, 412 handled by the caller). */
  accept?: number[];
  maxResponseBytes?: number;
  signal?: AbortSignal;
  /**
   * The route class of this request, e.g. "cors-app-route" for a `#[CORS]` app route (Deck, Tables
   * v1). While the instance's refusal of that class is fresh (routes.ts), the request is not sent and
   * fails at once as "bearer_refused"; a success records that the class is accepted. Refusals
   * ("CORS requires basic auth") are recorded for every request, marked or not.
   */
  routeClass?: RouteClass;
}

/** A response read in full (within the size limit). */
export interface NextcloudResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  text(): string;
  json(): unknown;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PROPFIND", "SEARCH", "REPORT", "PUT", "DELETE"]);
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

/**
 * Sends a request with the user's bearer token (RFC 6750 §2.1) and maps failures to NextcloudError.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export async function send(
  options: NextcloudClientOptions,
  req: NextcloudRequest,
): Promise<NextcloudResponse> {
  const routes = options.routes;
  if (req.routeClass !== undefined && routes !== undefined) {
    const known = routes.verdict(options.baseUrl, req.routeClass);
    if (known.state === "refused") {
      throw bearerRefused(req.what, {
        detail: `not sent: ${known.reason ?? "refused before"}; tried again after ${new Date(known.recheckAt ?? 0).toISOString()}`,
      });
    }
  }
  const retries = IDEMPOTENT.has(req.method) ? (options.retries ?? 2) : 0;
  // One deadline for the call, retries included: a retry is made only when its wait fits in what is
  // left of timeoutMs, and each attempt gets only what is left.
  const deadline = Date.now() + options.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const res = await once(options, req, attempt === 0 ? options.timeoutMs : deadline - Date.now());
    const retryable = res.status === 429 || res.status === 503;
    if (retryable && attempt < retries) {
      const asked = parseRetryAfter(res.headers.get("retry-after"));
      const backoff = Math.min(4000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
      const delay = asked ?? backoff;
      if (delay <= (options.maxRetryDelayMs ?? 5000) && Date.now() + delay < deadline) {
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
    }
    if ((res.status >= 200 && res.status < 300) || req.accept?.includes(res.status)) {
      if (req.routeClass !== undefined && res.status < 300) {
        routes?.record(options.baseUrl, req.routeClass, "accepted", "served a bearer request");
      }
      return res;
    }
    const err = errorFromResponse(res.status, res.headers, req.what, { message: messageOf(res) });
    // Only CORSMiddleware answers "CORS requires basic auth": the request was a `#[CORS]` app route.
    if (err.kind === "bearer_refused") {
      routes?.record(
        options.baseUrl,
        "cors-app-route",
        "refused",
        'Nextcloud answered "CORS requires basic auth"',
      );
    }
    throw err;
  }
}

async function once(
  options: NextcloudClientOptions,
  req: NextcloudRequest,
  budgetMs: number,
): Promise<NextcloudResponse> {
  const url = guardRequest(options.baseUrl, req);
  const limit = req.maxResponseBytes ?? options.maxResponseBytes ?? DEFAULT_MAX_BYTES;
  // Outside the try: a token source that fails (the IdP refused the exchange, the sign-in expired)
  // says so itself, instead of becoming "Nextcloud could not be reached". Before the timeout starts:
  // waiting for a token exchange (bounded on its own) is not Nextcloud's time.
  const token = await options.token();
  // One controller for the time limit and the caller's signal (AbortSignal.timeout and .any cost a
  // weak timer and a composite signal per request).
  const controller = new AbortController();
  const signal = controller.signal;
  const budget = { spent: false };
  const timer = setTimeout(
    () => {
      budget.spent = true;
      controller.abort(new DOMException("The operation timed out.", "TimeoutError"));
    },
    Math.max(1, budgetMs),
  );
  timer.unref();
  const callerAborted = () => {
    controller.abort(req.signal?.reason);
  };
  if (req.signal?.aborted === true) callerAborted();
  else req.signal?.addEventListener("abort", callerAborted, { once: true });
  const headers = {
    // An empty token means an anonymous request (e.g. public capabilities in `check`).
    ...(token === "" ? {} : { Authorization: `Bearer ${token}` }),
    "OCS-APIRequest": "true",
    ...req.headers,
  };
  try {
    if (options.fetch !== undefined) {
      const res = await options.fetch(url, {
        method: req.method,
        headers,
        ...(req.body === undefined ? {} : { body: req.body }),
        redirect: "manual",
        signal,
      });
      return answer(res.status, res.headers, await readLimited(res, limit, req.what));
    }
    const res = await exchange(url, {
      method: req.method,
      headers,
      body: req.body,
      signal,
      limit,
      what: req.what,
      idempotent: IDEMPOTENT.has(req.method),
    });
    let made: Headers | undefined;
    // Headers made only when read: most callers never look at them.
    return answer(res.status, () => (made ??= toHeaders(res.rawHeaders)), res.body);
  } catch (err) {
    if (err instanceof NextcloudError) throw err;
    if (budget.spent) {
      throw new NextcloudError(
        "timeout",
        `Nextcloud did not answer within ${String(options.timeoutMs)} ms for ${req.what}.`,
        {
          cause: err,
        },
      );
    }
    const cause = connectionCause(err);
    if (cause.timeout) {
      throw new NextcloudError(
        "timeout",
        `Nextcloud did not answer in time for ${req.what} (${cause.text}).`,
        {
          detail: cause.detail,
          cause: err,
        },
      );
    }
    throw new NextcloudError(
      "unavailable",
      `Nextcloud could not be reached for ${req.what} (${cause.text}).`,
      {
        detail: cause.detail,
        cause: err,
      },
    );
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener("abort", callerAborted);
  }
}

const utf8 = new TextDecoder();

function answer(status: number, headers: Headers | (() => Headers), body: Uint8Array): NextcloudResponse {
  return {
    status,
    get headers() {
      return typeof headers === "function" ? headers() : headers;
    },
    body,
    text: () => utf8.decode(body),
    json: () => JSON.parse(utf8.decode(body)) as unknown,
  };
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/**
 * Why a request got no answer, from the error chain fetch rejects with (`fetch failed` says
 * nothing): a short text for the user (`connection refused: ECONNREFUSED`, `unknown host: ENOTFOUND
 * nc.example.com`, `TLS: CERT_HAS_EXPIRED`, `connect timeout`) and the whole chain for the log.
 */
export function connectionCause(err: unknown): { text: string; detail: string; timeout: boolean } {
  const chain: { code?: string; message: string; hostname?: string }[] = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 5; e = e.cause) {
    const { code, hostname } = e as { code?: unknown; hostname?: unknown };
    chain.push({
      message: e.message,
      ...(typeof code === "string" ? { code } : {}),
      ...(typeof hostname === "string" ? { hostname } : {}),
    });
  }
  const detail = chain.length > 0 ? chain.map((c) => c.message).join("; cause: ") : String(err);
  const found = [...chain].reverse().find((c) => c.code !== undefined);
  const code = found?.code ?? "";
  if (code === "ECONNREFUSED") return { text: "connection refused: ECONNREFUSED", detail, timeout: false };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return {
      text: `unknown host: ${code}${found?.hostname ? ` ${found.hostname}` : ""}`,
      detail,
      timeout: false,
    };
  }
  if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT") {
    return { text: `connect timeout: ${code}`, detail, timeout: true };
  }
  if (TLS_CODE.test(code)) return { text: `TLS: ${code}`, detail, timeout: false };
  if (code !== "") return { text: code, detail, timeout: false };
  return { text: chain.at(-1)?.message ?? String(err), detail, timeout: false };
}

async function readLimited(res: Response, limit: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await res.body?.cancel();
    throw new NextcloudError("too_large", `${what} is larger than the ${String(limit)} bytes allowed.`);
  }
  if (!res.body) return new Uint8Array();
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new NextcloudError("too_large", `${what} is larger than the ${String(limit)} bytes allowed.`);
    }
    chunks.push(value);
  }
  return joinChunks(chunks, size);
}

/** Nextcloud's own message from a JSON (`message`, OCS `meta.message`) or Sabre XML error body. */
function messageOf(res: NextcloudResponse): string | undefined {
  const text = res.text();
  try {
    const body = JSON.parse(text) as { message?: unknown; ocs?: { meta?: { message?: unknown } } };
    const m = body.message ?? body.ocs?.meta?.message;
    return typeof m === "string" && m !== "" ? m : undefined;
  } catch {
    return /<s:message>([^<]*)<\/s:message>/.exec(text)?.[1];
  }
}
