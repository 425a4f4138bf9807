import { decodeJwt } from "jose";
import { tokenDigest } from "../auth/index.ts";
import { describeError, GatewayError } from "../errors.ts";
import type { Idp } from "../idp/index.ts";
import { exchangeToken, type ExchangedToken } from "../idp/exchange.ts";
import { untilAborted } from "../abort.ts";
import { Slots, SlotsStalled, type SlotOutcome, type SlotsStats } from "./slots.ts";

/** Default bound of the exchanged-token cache of a {@link TokenBroker}. */
export const DEFAULT_MAX_EXCHANGED_TOKENS = 10_000;

/** Default seconds before its expiry at which a cached exchanged token is no longer handed out. */
export const DEFAULT_SKEW_SECONDS = 30;

/**
 * Default milliseconds for which, after an exchange failed because the IdP refused or dropped the
 * connection, further exchanges fail at once with the same message instead of each trying again:
 * one tool call asks for a token twice (the app check, then the call).
 */
export const DEFAULT_UNREACHABLE_HOLD_MS = 3000;

/**
 * Default most exchanges one broker has in flight at the IdP; the others wait in arrival order
 * (slots.ts, ADR 0027). A start-dev Keycloak on 2 busy cores answered 27 exchanges a second at 32 at
 * once, as many as at 1,000 at once, but each within 2.6 s instead of 10.
 */
export const DEFAULT_MAX_CONCURRENT_EXCHANGES = 32;

/** Default milliseconds without any answer from the IdP after which a waiting exchange gives up. */
export const DEFAULT_EXCHANGE_STALL_MS = 10_000;

/** Network errors that say the IdP cannot be reached at all (as opposed to slow or overloaded). */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);

/**
 * Whether the failure was a connection the IdP refused or dropped. A timeout is not: under load an
 * IdP answers slowly, and holding every exchange after one slow answer turned a slow warm-up into
 * hundreds of refused calls (reliability scenario `load`).
 */
function connectionFailed(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Object && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Options of {@link TokenBroker}. */
export interface TokenBrokerOptions {
  /** The loaded IdP, e.g. `() => idpClient.load()`; a rejection counts as the IdP being unreachable. */
  idp: () => Promise<Idp>;
  /** The audience of the tokens to mint: Nextcloud's client id at the IdP. */
  audience: string;
  /** Scopes to request, e.g. the client scope whose audience mapper adds `audience`. */
  scope?: string;
  /** Seconds before `expiresAt` at which a cached token is exchanged anew. Default {@link DEFAULT_SKEW_SECONDS}. */
  skewSeconds?: number;
  /** Most cached tokens; expired ones go first, then the oldest. Default {@link DEFAULT_MAX_EXCHANGED_TOKENS}. */
  maxEntries?: number;
  /** Clock in milliseconds since the epoch. */
  now?: () => number;
  /** The exchange itself; tests of the cache replace it. Default {@link exchangeToken}. */
  exchange?: typeof exchangeToken;
  /** Default {@link DEFAULT_UNREACHABLE_HOLD_MS}; 0 asks the IdP every time. */
  unreachableHoldMs?: number;
  /** Most exchanges in flight at the IdP at once; default {@link DEFAULT_MAX_CONCURRENT_EXCHANGES}. */
  maxConcurrent?: number;
  /**
   * A waiting exchange fails (IdP unreachable) once the IdP answered none in flight for this long;
   * the IdP's own timeout (OUTBOUND_TIMEOUT_MS) fits. Default {@link DEFAULT_EXCHANGE_STALL_MS}.
   */
  stallMs?: number;
}

/** Broker counters, for metrics. */
export interface TokenBrokerStats {
  /** Exchanges sent to the IdP (callers that shared one count once). */
  readonly exchanges: number;
  /** Calls answered from the cache. */
  readonly cacheHits: number;
  /** Exchanges that failed, including when the IdP was not loaded. */
  readonly failures: number;
}

interface Entry {
  token: ExchangedToken;
  /** Milliseconds since the epoch from which the entry is not handed out. */
  until: number;
}

/** The subject token's `exp` in milliseconds, when it is a JWT that has one. */
function subjectExpiry(subjectToken: string): number | undefined {
  try {
    const { exp } = decodeJwt(subjectToken);
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns a verified MCP token into a Nextcloud token by token exchange, once per token and replica:
 * the result is cached by SHA-256 of the subject token until shortly before it expires (and never
 * past the subject token's own `exp`), and concurrent calls for one token share one exchange. A
 * failed exchange is not remembered, so the next call tries again, except when the IdP failed
 * (timeout, 5xx, refused): then the same token's next exchanges fail at once for
 * `unreachableHoldMs` (one tool call asks twice), and everyone's when the IdP refused or dropped the
 * connection. At most `maxConcurrent` exchanges are in flight at the IdP; the others wait their turn
 * (slots.ts), and fail only when the IdP answers none of those in flight for `stallMs`.
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */
export class TokenBroker {
  readonly #idp: () => Promise<Idp>;
  readonly #request: { audience: string; scope?: string };
  readonly #skewMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #exchange: typeof exchangeToken;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<ExchangedToken>>();
  readonly #unreachableHoldMs: number;
  readonly #slots: Slots;
  #unreachable: { at: number; err: GatewayError } | undefined;
  /** Per subject token: its last exchange failed for the IdP's sake (timeout, 5xx, refused). */
  readonly #failedRecently = new Map<string, { at: number; err: GatewayError }>();
  #exchanges = 0;
  #cacheHits = 0;
  #failures = 0;

  constructor(options: TokenBrokerOptions) {
    const skewSeconds = options.skewSeconds ?? DEFAULT_SKEW_SECONDS;
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_EXCHANGED_TOKENS;
    if (!options.audience) throw new RangeError("audience must not be empty");
    if (!Number.isFinite(skewSeconds) || skewSeconds < 0) {
      throw new RangeError(`skewSeconds must be a non-negative number, got ${skewSeconds}`);
    }
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
    this.#idp = options.idp;
    this.#request = {
      audience: options.audience,
      ...(options.scope ? { scope: options.scope } : {}),
    };
    this.#skewMs = skewSeconds * 1000;
    this.#maxEntries = maxEntries;
    this.#unreachableHoldMs = options.unreachableHoldMs ?? DEFAULT_UNREACHABLE_HOLD_MS;
    this.#now = options.now ?? Date.now;
    this.#exchange = options.exchange ?? exchangeToken;
    this.#slots = new Slots({
      limit: options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_EXCHANGES,
      stallMs: options.stallMs ?? DEFAULT_EXCHANGE_STALL_MS,
      now: this.#now,
    });
  }

  /** The exchanges in flight at the IdP and waiting for their turn. */
  get slots(): SlotsStats {
    return this.#slots.stats;
  }

  /** A snapshot of the counters. */
  get stats(): TokenBrokerStats {
    return { exchanges: this.#exchanges, cacheHits: this.#cacheHits, failures: this.#failures };
  }

  /** Cached tokens, including expired ones not yet dropped. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * A Nextcloud token for the (already verified) MCP access token `subjectToken`.
   * @param signal stops this caller's wait only; an exchange other callers share goes on.
   * @param digest `tokenDigest(subjectToken)`, when the caller has it already: entries are keyed by
   *   it, so that the broker never holds a usable subject token.
   * @throws GatewayError as {@link exchangeToken} does; `temporarily_unavailable` while the IdP is not loaded.
   */
  async nextcloudToken(
    subjectToken: string,
    signal?: AbortSignal,
    digest = tokenDigest(subjectToken),
  ): Promise<ExchangedToken> {
    signal?.throwIfAborted();
    const key = digest;
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      if (this.#now() < entry.until) {
        this.#cacheHits++;
        return entry.token;
      }
      this.#entries.delete(key);
    }
    const down = this.#unreachable ?? this.#failedRecently.get(key);
    if (down !== undefined && this.#now() - down.at < this.#unreachableHoldMs) {
      this.#failures++;
      throw new GatewayError("temporarily_unavailable", down.err.description, {
        detail: `token exchange not attempted: the identity provider failed ${String(this.#now() - down.at)} ms ago (${down.err.detail ?? down.err.description})`,
      });
    }
    let flight = this.#inFlight.get(key);
    if (flight === undefined) {
      // Removed once settled, so a failure is not remembered and the next call tries again.
      flight = this.#fly(key, subjectExpiry(subjectToken), subjectToken).finally(() => {
        this.#inFlight.delete(key);
      });
      this.#inFlight.set(key, flight);
    }
    return untilAborted(flight, signal);
  }

  async #fly(key: string, subjectExp: number | undefined, subjectToken: string): Promise<ExchangedToken> {
    this.#exchanges++;
    try {
      let idp: Idp;
      try {
        idp = await this.#idp();
      } catch (err) {
        if (err instanceof GatewayError) throw err;
        throw new GatewayError(
          "temporarily_unavailable",
          "The identity provider is unreachable; try again in a moment.",
          { detail: `token exchange: identity provider not loaded: ${describeError(err)}`, cause: err },
        );
      }
      const token = await this.#exchangeInTurn(idp, subjectToken);
      this.#unreachable = undefined;
      this.#failedRecently.delete(key);
      this.#remember(key, token, subjectExp);
      return token;
    } catch (err) {
      this.#failures++;
      if (err instanceof GatewayError && err.code === "temporarily_unavailable") {
        const failure = { at: this.#now(), err };
        // Everyone waits when the IdP refused the connection; only this token after a timeout.
        if (connectionFailed(err)) this.#unreachable = failure;
        if (this.#failedRecently.size >= this.#maxEntries) this.#failedRecently.clear();
        this.#failedRecently.set(key, failure);
      }
      throw err;
    }
  }

  /** The exchange once a slot is free; the IdP's timeout starts only then. */
  async #exchangeInTurn(idp: Idp, subjectToken: string): Promise<ExchangedToken> {
    let release: (outcome: SlotOutcome) => void;
    try {
      release = await this.#slots.acquire();
    } catch (err) {
      if (!(err instanceof SlotsStalled)) throw err;
      throw new GatewayError(
        "temporarily_unavailable",
        "The identity provider is unreachable; try again in a moment.",
        { detail: `token exchange not sent: ${err.message}`, cause: err },
      );
    }
    let outcome: SlotOutcome = "failed";
    try {
      const token = await this.#exchange(idp, subjectToken, this.#request, { now: this.#now });
      outcome = "answered";
      return token;
    } catch (err) {
      // Any answer of the IdP, a refusal too, shows it is answering; a timeout or 5xx does not.
      if (!(err instanceof GatewayError && err.code === "temporarily_unavailable")) outcome = "answered";
      throw err;
    } finally {
      release(outcome);
    }
  }

  #remember(key: string, token: ExchangedToken, subjectExp: number | undefined): void {
    const now = this.#now();
    const until = Math.min(token.expiresAt * 1000 - this.#skewMs, subjectExp ?? Infinity);
    if (now >= until) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      // Runs only after an exchange, whose round trip dwarfs the sweep.
      for (const [k, e] of this.#entries) if (now >= e.until) this.#entries.delete(k);
    }
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { token, until });
  }
}
