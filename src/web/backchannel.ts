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

/** Settings of {@link backchannelLogout}. */
export interface BackchannelSettings {
  issuer: string;
  /** The gateway's client id: the logout token's required audience. */
  clientId: string;
  idp: () => Promise<Idp>;
  /** Revokes every active grant of the user with this subject; returns how many. */
  revokeUser: (subject: string, reason: string) => Promise<number>;
}

/** Why a logout token was refused; the IdP gets it as `error_description`. */
class LogoutTokenError extends Error {}

/**
 * Validates a logout token as OpenID Connect Back-Channel Logout 1.0 §2.6 says: signature with the
 * IdP's keys and an asymmetric algorithm, `iss`, `aud` naming the gateway client, `iat`, the
 * back-channel logout event, no `nonce`, and a `sub` (the gateway keeps grants per subject).
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#Validation
 */
async function validLogoutToken(
  token: string,
  settings: BackchannelSettings,
): Promise<JWTPayload & { sub: string }> {
  const idp = await settings.idp();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, idp.jwks, {
      issuer: settings.issuer,
      audience: settings.clientId,
      algorithms: [...ALLOWED_ALGORITHMS],
      clockTolerance: 60,
      requiredClaims: ["iat"],
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
  return payload as JWTPayload & { sub: string };
}

/**
 * POST /oauth/backchannel-logout: the IdP says a user's session ended; every active offline grant
 * of that user is marked revoked (rows kept, reason stored, audited). Answers 200 with
 * `Cache-Control: no-store` when done, 400 for a bad request or token, 503 when the IdP's keys or
 * the database are unavailable (the IdP may retry).
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
    let subject: string;
    try {
      subject = (await validLogoutToken(token, settings)).sub;
    } catch (err) {
      if (err instanceof LogoutTokenError) {
        log.warn({ err: err.message }, "back-channel logout refused");
        return c.json({ error: "invalid_request", error_description: err.message }, 400);
      }
      log.error({ err: describeError(err) }, "back-channel logout: cannot validate now");
      return c.json({ error: "temporarily_unavailable", error_description: "try again later" }, 503);
    }
    try {
      const revoked = await settings.revokeUser(subject, BACKCHANNEL_REASON);
      log.info(
        { sub: subjectHash(settings.issuer, subject), revoked },
        "back-channel logout: grants revoked",
      );
    } catch (err) {
      log.error({ err: describeError(err) }, "back-channel logout: grants could not be revoked");
      return c.json({ error: "temporarily_unavailable", error_description: "try again later" }, 503);
    }
    return c.body(null, 200);
  };
}
