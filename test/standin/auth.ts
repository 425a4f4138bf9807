// Bearer validation exactly as user_oidc's self-encoded validator does it (SelfEncodedValidator with
// firebase/php-jwt, leeway 60 s): discovery of the issuer, the provider's JWKS, a signature by one of
// its keys, `nbf` (or, without `nbf`, `iat`) no more than 60 s in the future, `exp` present and not
// passed (user_oidc checks `exp < now` itself after the library: no leeway there), `iss` equal to the
// discovery issuer, `aud` containing the client id, and the Nextcloud uid mapped from a claim
// (optionally hashed, "unique uid"). The clock is injectable so tests can stand at `exp` exactly.
import { createHash } from "node:crypto";
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";

/** How the stand-in's user_oidc provider is configured (`occ user_oidc:provider`). */
export interface ProviderSettings {
  issuer: string;
  /** The provider's client id; `aud` must contain it. */
  audience: string;
  /** `--mapping-uid`; default `sub`. */
  uidClaim: "sub" | "preferred_username";
  /** `--unique-uid=1`: uid = sha256("<providerId>_0_<claim>"). */
  uniqueUid: { providerId: number } | undefined;
  /** The clock in milliseconds since the epoch (Date.now by default). */
  now?: (() => number) | undefined;
}

/** php-jwt's leeway as user_oidc sets it (`JWT::$leeway = 60`), for nbf and iat. */
const LEEWAY_SECONDS = 60;

/** A user as user_oidc provisions it on the first valid bearer request. */
export interface StandinUser {
  uid: string;
  /** The value of the mapping claim the uid was made from. */
  claim: string;
  displayName: string;
  email: string | null;
}

/**
 * user_oidc's `LocalIdService::getId`: the claim itself, or sha256 of "<providerId>_0_<claim>" with
 * unique uid on; ids longer than 64 characters are hashed anyway.
 */
export function localUid(claim: string, uniqueUid: { providerId: number } | undefined): string {
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  if (uniqueUid !== undefined) return sha(`${String(uniqueUid.providerId)}_0_${claim}`);
  return claim.length > 64 ? sha(claim) : claim;
}

/** Validates bearer tokens; the JWKS location comes from the issuer's discovery document. */
export class BearerValidator {
  readonly #settings: ProviderSettings;
  #provider: Promise<{ issuer: string; jwks: JWTVerifyGetKey }> | undefined;

  constructor(settings: ProviderSettings) {
    this.#settings = settings;
  }

  #discover(): Promise<{ issuer: string; jwks: JWTVerifyGetKey }> {
    this.#provider ??= (async () => {
      const url = `${this.#settings.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`discovery answered ${String(res.status)}`);
      const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (typeof doc.issuer !== "string" || typeof doc.jwks_uri !== "string") {
        throw new Error("discovery document without issuer or jwks_uri");
      }
      return { issuer: doc.issuer, jwks: createRemoteJWKSet(new URL(doc.jwks_uri)) };
    })();
    this.#provider.catch(() => {
      this.#provider = undefined;
    });
    return this.#provider;
  }

  /** The user a token belongs to, or undefined when user_oidc would refuse the token. */
  async validate(token: string): Promise<StandinUser | undefined> {
    const payload = await this.#verify(token);
    if (payload === undefined) return undefined;
    const claim = payload[this.#settings.uidClaim];
    if (typeof claim !== "string" || claim === "") return undefined;
    const name = payload.name ?? payload.preferred_username;
    const uid = localUid(claim, this.#settings.uniqueUid);
    return {
      uid,
      claim,
      displayName: typeof name === "string" ? name : uid,
      email: typeof payload.email === "string" ? payload.email : null,
    };
  }

  /** The payload of a token user_oidc would accept, else undefined. */
  async #verify(token: string): Promise<JWTPayload | undefined> {
    const nowMs = (this.#settings.now ?? Date.now)();
    const now = Math.floor(nowMs / 1000);
    let payload: JWTPayload;
    try {
      const provider = await this.#discover();
      ({ payload } = await jwtVerify(token, provider.jwks, {
        issuer: provider.issuer,
        audience: this.#settings.audience,
        currentDate: new Date(nowMs),
        // jose applies this to nbf (as php-jwt does) and to exp, which is checked strictly below.
        clockTolerance: LEEWAY_SECONDS,
        requiredClaims: ["exp"],
        algorithms: [
          "RS256",
          "RS384",
          "RS512",
          "PS256",
          "PS384",
          "PS512",
          "ES256",
          "ES384",
          "ES512",
          "EdDSA",
        ],
      }));
    } catch {
      return undefined;
    }
    // user_oidc: `if ($payload->exp < $this->timeFactory->getTime())`: refused once exp has passed.
    if (typeof payload.exp !== "number" || payload.exp < now) return undefined;
    // php-jwt: without nbf, a token issued more than the leeway in the future is refused.
    if (
      payload.nbf === undefined &&
      typeof payload.iat === "number" &&
      Math.floor(payload.iat) > now + LEEWAY_SECONDS
    ) {
      return undefined;
    }
    return payload;
  }
}
