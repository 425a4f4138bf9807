import * as oidc from "openid-client";
import { GatewayError } from "../errors.ts";
import type { RefreshAnswer } from "../store/grants.ts";
import { tokenEndpointOf, type Idp } from "./discovery.ts";
import { answerDetail, challengeOf, idpUnavailable, nonOAuthFailure, oauthErrorOf } from "./oauth-error.ts";

const UNREACHABLE = "The identity provider is unreachable; the refresh is retried later.";

/**
 * Refreshes an offline grant's refresh token at the IdP (RFC 6749 §6), authenticating as the
 * gateway client, and returns what the grant store keeps: the rotated refresh token (when the IdP
 * rotates) and the access token. Meant as the `refreshWith` of GrantStore.refresh, which holds the
 * grant's row lock meanwhile and stores the rotated token before anything else happens.
 * @throws the IdP's `invalid_grant` answer unchanged (openid-client's ResponseBodyError), so that
 *   GrantStore.refresh marks the grant revoked with the IdP's reason; otherwise GatewayError
 *   `temporarily_unavailable` (IdP unreachable, timeout, 5xx, 429) or `server_error` (a setting of
 *   the gateway or the realm is wrong; the description names it). Never carries a token.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export async function refreshAtIdp(idp: Idp, refreshToken: string): Promise<RefreshAnswer> {
  let response: oidc.TokenEndpointResponse;
  try {
    response = await oidc.refreshTokenGrant(idp.configuration, refreshToken);
  } catch (err) {
    if (oauthErrorOf(err)?.error === "invalid_grant") throw err;
    throw refreshFailure(err, idp);
  }
  return {
    refreshToken: response.refresh_token,
    accessToken: response.access_token,
    expiresIn: response.expires_in,
  };
}

/** Classifies a failed refresh other than invalid_grant; descriptions say what to do. */
function refreshFailure(err: unknown, idp: Idp): GatewayError {
  const at = `refresh at ${tokenEndpointOf(idp)}`;
  const answer = oauthErrorOf(err) ?? challengeOf(err);
  if (!answer) {
    return nonOAuthFailure(
      err,
      at,
      UNREACHABLE,
      "The identity provider answered a refresh with something the gateway cannot use; the gateway log has the details.",
    );
  }
  const detail = answerDetail(at, answer);
  const fail = (code: "temporarily_unavailable" | "server_error", text: string) =>
    new GatewayError(code, text, { detail, cause: err });
  const clientId = idp.configuration.clientMetadata().client_id;
  const description = answer.description ?? "";
  if (idpUnavailable(answer)) return fail("temporarily_unavailable", UNREACHABLE);
  switch (answer.error) {
    case "invalid_client":
    case "unauthorized_client":
      // Keycloak answers a wrong secret with 401 unauthorized_client "Invalid client or Invalid client credentials".
      if (answer.error === "invalid_client" || answer.status === 401 || /credentials/i.test(description)) {
        return fail(
          "server_error",
          `The identity provider refused the gateway's client credentials; the operator must check OIDC_CLIENT_ID (${clientId}) and OIDC_CLIENT_SECRET.`,
        );
      }
      return fail("server_error", noRefresh(clientId));
    case "unsupported_grant_type":
      return fail("server_error", noRefresh(clientId));
    case "invalid_scope":
      return fail(
        "server_error",
        `The identity provider refused the scopes of a stored offline grant for ${clientId}; check that ${clientId} still has the offline_access and nextcloud-audience client scopes.`,
      );
  }
  return fail(
    "server_error",
    "The identity provider refused to refresh an offline grant; the gateway log has the details.",
  );
}

function noRefresh(clientId: string): string {
  return `The identity provider does not let the gateway client ${clientId} use refresh tokens; in Keycloak, ${clientId} must be a confidential client with "Use refresh tokens" on (client attribute use.refresh.tokens).`;
}
