import type { Handler } from "hono";
import { errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import { ALLOWED_ALGORITHMS } from "../auth/verify.ts";
import { describeError } from "../errors.ts";
import type { AppEnv } from "../http/env.ts";
import type { Idp } from "../idp/index.ts";
import { subjectHash } from "../log.ts";

const LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/** The reason stored on grants revoked by a back-channel logout (the account page shows it). */
export const BACKCHANNEL_REASON =
  "the identity provider ended the offline session (back-channel logout): you or an administrator signed it out there";

/** Clock leeway for `iat` and `exp`, in seconds. */
const LEEWAY_SECONDS = 60;

/** Settings of {@link backchannelLogout}. */
export interface BackchannelSettings {
  issuer: string;
  /** The gateway's client id: the logout token's required audience. */
  clientId: string;
  idp: () => Promise<Idp>;
  /** A logout token is accepted only this many seconds after its `iat` (LOGOUT_TOKEN_MAX_AGE_SECONDS). */
  maxAgeSeconds: number;
  /**
   * Records that the token `jti` was accepted, until `expiresAt`, in storage all replicas share;
   * false when it was recorded before (a replay).
   */
  recordUse: (jti: string, expiresAt: Date) => Promise<boolean>;
  /** Forgets a recorded `jti`, so that the IdP's retry after a failure here is accepted. */
  forgetUse: (jti: string) => Promise<void>;
  /**
   * Logs out the IdP session `sid` (every session when undefined) of the user with this subject:
   * revokes its grants and ends the user's account-page sessions; returns how many grants.
   */
  logoutUser: (subject: string, sid: string | undefined, reason: string) => Promise<number>;
  /** The clock (tests pin it). */
  now?: () => Date;
}

/** A logout token that passed validation: whose, which token, and until when it could be accepted. */
interface ValidLogoutToken {
  sub: string;
  sid: string | undefined;
  jti: string;
  /** Until when this token would be accepted: its replay record must live that long. */
  acceptableUntil: Date;
}

/** Why a logout token was refused; the IdP gets it as `error_description`. */
class LogoutTokenError extends Error {}

/**
 * Validates a logout token as OpenID Connect Back-Channel Logout 1.0 §2.6 says: signature with the
 * IdP's keys and an asymmetric algorithm, `iss`, `aud` naming the gateway client, the back-channel
 * logout event, no `nonce`, and a `sub` (the gateway keeps grants per subject). Beyond the spec's
 * minimum: `iat` is required and at most `maxAgeSeconds` old (a token without `exp` would otherwise
 * be good forever), `exp` is honoured when present, and `jti` is required so that a replay can be
 * recognised.
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#Validation
 */
async function validLogoutToken(token: string, settings: BackchannelSettings): Promise<ValidLogoutToken> {
  const idp = await settings.idp();
  const now = settings.now?.() ?? new Date();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, idp.jwks, {
      issuer: settings.issuer,
      audience: settings.clientId,
      algorithms: [...ALLOWED_ALGORITHMS],
      clockTolerance: LEEWAY_SECONDS,
      maxTokenAge: settings.maxAgeSeconds,
      currentDate: now,
      requiredClaims: ["iat", "jti"],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JOSEError)
      throw new LogoutTokenError(`logout token rejected: ${err.message}`);
    throw err;
  }
  const events = payload.events as Record<string, unknown> | undefined;
  if (typeof events !== "object" || typeof events[LOGOUT_EVENT] !== "object") {
    throw new LogoutTokenError(`logout token rejected: the events claim lacks ${LOGOUT_EVENT}`);
  }
  if ("nonce" in payload) throw new LogoutTokenError("logout token rejected: it carries a nonce");
  if (typeof payload.sub !== "string" || payload.sub === "") {
    throw new LogoutTokenError("logout token rejected: no sub (the gateway needs the subject)");
  }
  if (typeof payload.jti !== "string" || payload.jti === "" || payload.jti.length > 512) {
    throw new LogoutTokenError("logout token rejected: no usable jti (needed to refuse replays)");
  }
  // jose has checked that iat is a number, not in the future and not too old.
  const byAge = ((payload.iat ?? 0) + settings.maxAgeSeconds) * 1000;
  const byExp = typeof payload.exp === "number" ? payload.exp * 1000 : Infinity;
  return {
    sub: payload.sub,
    sid: typeof payload.sid === "string" && payload.sid !== "" ? payload.sid : undefined,
    jti: payload.jti,
    acceptableUntil: new Date(Math.min(byAge, byExp) + LEEWAY_SECONDS * 1000),
  };
}

/**
 * POST /oauth/backchannel-logout: the IdP says a user's session ended; every active offline grant
 * of that user is marked revoked (rows kept with their tokens blanked, reason stored, audited) and
 * every account-page session of the user ends. Each logout token is accepted once: its `jti` is
 * recorded in the database before anything else is done, so a replay on any replica gets 400.
 * Answers 200 with `Cache-Control: no-store` when done, 400 for a bad request, token or replay,
 * 503 when the IdP's keys or the database are unavailable (the IdP may retry).
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#BCResponse
 */
export function backchannelLogout(settings: BackchannelSettings): Handler<AppEnv> {
  return async (c) => {
    const log = c.get("log");
    c.header("cache-control", "no-store");
    let token: unknown;
    try {
      token = (await c.req.parseBody()).logout_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== "string" || token === "") {
      return c.json(
        {
          error: "invalid_request",
          error_description: "POST a form with logout_token (OpenID Back-Channel Logout 1.0)",
        },
        400,
      );
    }
    let valid: ValidLogoutToken;
    try {
      valid = await validLogoutToken(token, settings);
    } catch (err) {
      if (err instanceof LogoutTokenError) {
        log.warn({ err: err.message }, "back-channel logout refused");
        return c.json({ error: "invalid_request", error_description: err.message }, 400);
      }
      log.error({ err: describeError(err) }, "back-channel logout: cannot validate now");
      return c.json({ error: "temporarily_unavailable", error_description: "try again later" }, 503);
    }
    const sub = subjectHash(settings.issuer, valid.sub);
    let first: boolean;
    try {
      first = await settings.recordUse(valid.jti, valid.acceptableUntil);
    } catch (err) {
      log.error({ err: describeError(err) }, "back-channel logout: cannot record the token now");
      return c.json({ error: "temporarily_unavailable", error_description: "try again later" }, 503);
    }
    if (!first) {
      log.warn({ sub }, "back-channel logout refused: the logout token was used before (replay)");
      return c.json(
        { error: "invalid_request", error_description: "logout token rejected: it was used before" },
        400,
      );
    }
    try {
      const revoked = await settings.logoutUser(valid.sub, valid.sid, BACKCHANNEL_REASON);
      log.info({ sub, revoked }, "back-channel logout: sessions ended, grants revoked");
    } catch (err) {
      log.error({ err: describeError(err) }, "back-channel logout: grants could not be revoked");
      await settings.forgetUse(valid.jti).catch((e: unknown) => {
        log.error({ err: describeError(e) }, "back-channel logout: the token's use could not be forgotten");
      });
      return c.json({ error: "temporarily_unavailable", error_description: "try again later" }, 503);
    }
    return c.body(null, 200);
  };
}
