import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import type { SealingKey } from "../store/index.ts";

/** How long a browser session on the account page lasts. */
export const SESSION_TTL_SECONDS = 8 * 3600;

/** What a session cookie says: which user, under which session version, until when. */
export interface Session {
  userId: string;
  /** The user's `session_version` when the cookie was issued; a different one ends the session. */
  version: number;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/**
 * Signs and checks the account page's session cookie. The HMAC-SHA256 keys are derived (HKDF) from
 * the sealing key ring, so the cookie needs no secret of its own and rotates with SEALING_KEYS:
 * new cookies are signed with the first key, cookies signed with any listed key are accepted.
 * The cookie carries the user's row id, their session version and an expiry; it is
 * integrity-protected, not secret. Sign-out and back-channel logout increment the user's version
 * in the database, which ends every cookie issued before on every replica (the caller compares).
 */
export class SessionSigner {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #current: string;

  constructor(ring: readonly SealingKey[]) {
    const first = ring[0];
    if (!first) throw new Error("the session signer needs at least one key");
    this.#current = first.kid;
    this.#keys = new Map(
      ring.map((k) => [
        k.kid,
        Buffer.from(hkdfSync("sha256", k.key, "nextcloud-mcp-gateway", "account-session-cookie v1", 32)),
      ]),
    );
  }

  /** A cookie value for `session`: `v2.<kid>.<payload>.<mac>`, all base64url. */
  sign(session: Session): string {
    const payload = Buffer.from(
      JSON.stringify({ u: session.userId, s: session.version, e: session.expiresAt }),
    ).toString("base64url");
    const head = `v2.${this.#current}.${payload}`;
    return `${head}.${this.#mac(this.#current, head)}`;
  }

  /**
   * The session of a cookie value, or undefined when it is malformed, forged, or expired. Cookies
   * of the first format (`v1`, without a session version) are refused: their users sign in again.
   */
  verify(value: string | undefined, nowSeconds: number = Math.floor(Date.now() / 1000)): Session | undefined {
    if (value === undefined || value.length > 512) return undefined;
    const parts = value.split(".");
    if (parts.length !== 4 || parts[0] !== "v2") return undefined;
    const [, kid = "", payload = "", mac = ""] = parts;
    if (!this.#keys.has(kid)) return undefined;
    const expected = Buffer.from(this.#mac(kid, `v2.${kid}.${payload}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      return undefined;
    }
    const { u, s, e } = (parsed ?? {}) as { u?: unknown; s?: unknown; e?: unknown };
    if (typeof u !== "string" || !Number.isSafeInteger(s) || typeof e !== "number" || e <= nowSeconds)
      return undefined;
    return { userId: u, version: s as number, expiresAt: e };
  }

  /** A token for the forms of a page, bound to the session cookie, against cross-site requests. */
  formToken(cookieValue: string): string {
    return this.#mac(this.#current, `form:${cookieValue}`);
  }

  /** Whether `token` is the form token of `cookieValue` under any key of the ring. */
  checkFormToken(cookieValue: string, token: string | undefined): boolean {
    if (token === undefined) return false;
    const given = Buffer.from(token);
    for (const kid of this.#keys.keys()) {
      const expected = Buffer.from(this.#mac(kid, `form:${cookieValue}`));
      if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
    }
    return false;
  }

  #mac(kid: string, data: string): string {
    const key = this.#keys.get(kid);
    if (!key) throw new Error(`no session key ${kid}`);
    return createHmac("sha256", key).update(data).digest("base64url");
  }
}
