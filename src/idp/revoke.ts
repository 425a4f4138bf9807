import * as oidc from "openid-client";
import { describeError, GatewayError } from "../errors.ts";
import type { Idp } from "./discovery.ts";
import { oauthErrorOf } from "./oauth-error.ts";

/**
 * Revokes a refresh token at the IdP as the gateway client (RFC 7009). The IdP answers 200 for a
 * token that is already invalid, so success means the token is dead either way.
 * @throws GatewayError `temporarily_unavailable` when the IdP cannot be reached or fails;
 *   `server_error` when it refuses the gateway's credentials or offers no revocation endpoint.
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.2
 */
export async function revokeRefreshToken(idp: Idp, refreshToken: string): Promise<void> {
  if (idp.metadata.revocation_endpoint === undefined) {
    throw new GatewayError(
      "server_error",
      "The identity provider has no token revocation endpoint (RFC 7009) in its discovery document, so the gateway cannot revoke your offline access there; nothing was deleted.",
      { detail: `issuer ${idp.metadata.issuer}: no revocation_endpoint` },
    );
  }
  try {
    await oidc.tokenRevocation(idp.configuration, refreshToken, { token_type_hint: "refresh_token" });
  } catch (err) {
    const said = oauthErrorOf(err);
    const detail = `revocation at ${idp.metadata.revocation_endpoint}: ${said ? `${said.status} ${said.error}` : describeError(err)}`;
    if (said?.error === "invalid_client" || said?.error === "unauthorized_client") {
      throw new GatewayError(
        "server_error",
        "The identity provider refused the gateway's client credentials when revoking; the operator must check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET. Nothing was deleted.",
        { detail, cause: err },
      );
    }
    throw new GatewayError(
      "temporarily_unavailable",
      "The identity provider could not revoke your offline access just now; nothing was deleted. Try again in a moment.",
      { detail, cause: err },
    );
  }
}
