import * as oidc from "openid-client";
import { describeError } from "../errors.ts";
import type { Idp } from "./discovery.ts";
import { oauthErrorOf } from "./oauth-error.ts";

/** The outcome of one `check` step. */
export interface ProbeResult {
  ok: boolean;
  message: string;
}

const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";

/**
 * Proves the gateway's client credentials and that the IdP lets this client exchange tokens, by
 * sending an RFC 8693 request with a subject token that cannot be valid. The IdP authenticates the
 * client before it looks at the token, so the error tells which setting is wrong.
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */
export async function probeClientCredentials(idp: Idp, clientId: string): Promise<ProbeResult> {
  try {
    await oidc.genericGrantRequest(idp.configuration, TOKEN_EXCHANGE, {
      subject_token: "check.probe.invalid",
      subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
    });
    return { ok: false, message: "the IdP accepted an invalid subject token; its token exchange is unsafe" };
  } catch (err) {
    const answer = oauthErrorOf(err);
    if (!answer) return { ok: false, message: `token endpoint unreachable: ${describeError(err)}` };
    const text = `${answer.error}${answer.description ? ` "${answer.description}"` : ""}`;
    if (answer.error === "invalid_client" || answer.error === "unauthorized_client") {
      return {
        ok: false,
        message: `the IdP refused the client credentials (${text}); check OIDC_CLIENT_ID (${clientId}) and OIDC_CLIENT_SECRET`,
      };
    }
    if (answer.error === "unsupported_grant_type" || /not enabled/i.test(answer.description ?? "")) {
      return {
        ok: false,
        message: `token exchange is not enabled for client ${clientId} (${text}); in Keycloak turn on "Standard token exchange" for the client (attribute standard.token.exchange.enabled)`,
      };
    }
    return { ok: true, message: `client ${clientId} authenticates and may exchange tokens` };
  }
}
