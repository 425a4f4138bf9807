// The browser-bound login cookie: everything /oauth/callback needs to finish a sign-in (state, PKCE
// verifier, nonce, purpose, return path), sealed with AES-256-GCM so that the pre-login phase writes
// nothing to the database and any replica with the same SEALING_KEYS can finish it. ADR 0009.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { SealingKey } from "../store/index.ts";

/** How long a browser has to come back to /oauth/callback (DESIGN §6.5). */
export const LOGIN_TTL_SECONDS = 600;

/** Where a finished sign-in may send the browser: a fixed list, never a reflected URL. */
export const RETURN_PATHS = ["/account", "/connect"] as const;
export type ReturnPath = (typeof RETURN_PATHS)[number];

/** A sign-in in progress, as sealed in the login cookie. */
export interface LoginState {
  /** The OAuth `state` sent to the IdP; the callback's `state` must equal it. */
  state: string;
  purpose: "connect" | "login";
  codeVerifier: string;
  nonce: string;
  returnTo: ReturnPath;
  /** Seconds since the epoch; the cookie is refused from then on. */
  expiresAt: number;
}

/** Why a login cookie did not open: absent or unreadable, or readable but too old. */
export type LoginCookieProblem = "missing" | "expired";

const VERSION = "v1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_COOKIE_CHARS = 2048;

/**
 * Seals and opens login cookies with AES-256-GCM under keys derived (HKDF-SHA256) from the sealing
 * key ring, as the session cookie is (ADR 0007): new cookies use the first key, cookies of any listed
 * key open. The cookie is `v1.<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>`; the AAD binds it to its
 * version and key id. It is secret (the PKCE verifier must not be readable) and tamper-proof.
 */
export class LoginCookieSealer {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #current: string;

  constructor(ring: readonly SealingKey[]) {
    const first = ring[0];
    if (!first) throw new Error("the login cookie sealer needs at least one key");
    this.#current = first.kid;
    this.#keys = new Map(
      ring.map((k) => [
        k.kid,
        Buffer.from(hkdfSync("sha256", k.key, "nextcloud-mcp-gateway", "login-cookie v1", 32)),
      ]),
    );
  }

  /** A new sign-in: fresh random `state`, expiring {@link LOGIN_TTL_SECONDS} from `nowSeconds`. */
  static start(
    fields: Omit<LoginState, "state" | "expiresAt">,
    nowSeconds: number = Math.floor(Date.now() / 1000),
  ): LoginState {
    return {
      ...fields,
      state: randomBytes(32).toString("base64url"),
      expiresAt: nowSeconds + LOGIN_TTL_SECONDS,
    };
  }

  /** The cookie value for `login`. */
  seal(login: LoginState): string {
    const key = this.#key(this.#current);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, nonce);
    cipher.setAAD(Buffer.from(`${VERSION}.${this.#current}`));
    const payload = JSON.stringify({
      s: login.state,
      p: login.purpose,
      v: login.codeVerifier,
      n: login.nonce,
      r: login.returnTo,
      e: login.expiresAt,
    });
    const body = Buffer.concat([nonce, cipher.update(payload, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${this.#current}.${body.toString("base64url")}`;
  }

  /**
   * The sign-in sealed in `value`, or why there is none: `missing` for an absent, malformed, forged
   * or foreign-key cookie, `expired` for a genuine one past its expiry.
   */
  open(
    value: string | undefined,
    nowSeconds: number = Math.floor(Date.now() / 1000),
  ): LoginState | LoginCookieProblem {
    if (value === undefined || value.length > MAX_COOKIE_CHARS) return "missing";
    const parts = value.split(".");
    if (parts.length !== 3 || parts[0] !== VERSION) return "missing";
    const [, kid = "", encoded = ""] = parts;
    const key = this.#keys.get(kid);
    const body = Buffer.from(encoded, "base64url");
    if (!key || body.length < NONCE_BYTES + TAG_BYTES + 2) return "missing";
    let parsed: unknown;
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, body.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(`${VERSION}.${kid}`));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)),
        decipher.final(),
      ]);
      parsed = JSON.parse(plain.toString("utf8"));
    } catch {
      return "missing";
    }
    const { s, p, v, n, r, e } = (parsed ?? {}) as Record<string, unknown>;
    if (
      typeof s !== "string" ||
      (p !== "connect" && p !== "login") ||
      typeof v !== "string" ||
      typeof n !== "string" ||
      !isReturnPath(r) ||
      typeof e !== "number"
    ) {
      return "missing";
    }
    if (e <= nowSeconds) return "expired";
    return { state: s, purpose: p, codeVerifier: v, nonce: n, returnTo: r, expiresAt: e };
  }

  #key(kid: string): Buffer {
    const key = this.#keys.get(kid);
    if (!key) throw new Error(`no login cookie key ${kid}`);
    return key;
  }
}

/** Whether `value` is one of {@link RETURN_PATHS}. */
export function isReturnPath(value: unknown): value is ReturnPath {
  return typeof value === "string" && (RETURN_PATHS as readonly string[]).includes(value);
}

/** Constant-time comparison of the callback's `state` with the sealed one. */
export function sameState(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
