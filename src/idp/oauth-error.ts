import * as oidc from "openid-client";

/** An OAuth error answer of the IdP, reduced to what the gateway acts on. */
export interface OAuthErrorAnswer {
  status: number;
  error: string;
  description: string | undefined;
}

/** Extracts `error`/`error_description` from openid-client's ResponseBodyError; undefined for other failures. */
export function oauthErrorOf(err: unknown): OAuthErrorAnswer | undefined {
  if (err instanceof oidc.ResponseBodyError) {
    return { status: err.status, error: err.error, description: err.error_description };
  }
  return undefined;
}
