import * as oidc from "openid-client";
import { describeError } from "../errors.ts";
import type { Idp } from "./discovery.ts";
import { answerText, oauthErrorOf } from "./oauth-error.ts";

/** The outcome of one `check` step. */
export interface ProbeResult {
  ok: boolean;
  message: string;
  /** The IdP could not be reached or did not answer: says nothing about the settings. */
  transient?: boolean;
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
    if (!answer) {
      return { ok: false, transient: true, message: `token endpoint unreachable: ${describeError(err)}` };
    }
    const text = answerText(answer);
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

/** A token the gateway's client obtained for itself, or why it got none. */
export type OwnToken = { ok: true; accessToken: string } | (ProbeResult & { ok: false });

/**
 * Asks the IdP for a token of the gateway's own client (client credentials grant) with `scope`, so
 * that `check` can see what audience the realm puts in tokens of that scope. The gateway refuses
 * such tokens at /mcp (they are no user's sign-in).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export async function ownClientToken(idp: Idp, clientId: string, scope: string): Promise<OwnToken> {
  try {
    const response = await oidc.clientCredentialsGrant(idp.configuration, { scope });
    return { ok: true, accessToken: response.access_token };
  } catch (err) {
    const answer = oauthErrorOf(err);
    if (!answer) return { ok: false, message: `token endpoint unreachable: ${describeError(err)}` };
    const text = answerText(answer);
    if (answer.error === "invalid_scope") {
      return {
        ok: false,
        message: `the IdP does not give client ${clientId} the scope ${scope} (${text}); in Keycloak add ${scope} to the client's optional client scopes, as keycloak/realm-export.json does`,
      };
    }
    if (answer.error === "unauthorized_client" && /service account/i.test(answer.description ?? "")) {
      return {
        ok: false,
        message: `cannot see the audience of ${scope} tokens: client ${clientId} may not get tokens of its own (${text}); in Keycloak turn on "Service accounts roles" for ${clientId}, as keycloak/realm-export.json does`,
      };
    }
    return { ok: false, message: `the IdP refused a client credentials token for ${clientId} (${text})` };
  }
}

/** Options of {@link ClientAuthCheck}. */
export interface ClientAuthCheckOptions {
  /** How long a passing result is kept; default 5 minutes. */
  okTtlMs?: number;
  /** How long a failing result is kept; default 30 seconds. */
  failTtlMs?: number;
  now?: () => number;
}

/**
 * The gateway's client authentication at the IdP for `/readyz`: {@link probeClientCredentials}, run
 * at most once per TTL however often the orchestrator probes, concurrent callers sharing one call.
 */
export class ClientAuthCheck {
  readonly #run: () => Promise<ProbeResult>;
  readonly #okTtlMs: number;
  readonly #failTtlMs: number;
  readonly #now: () => number;
  #last: { at: number; result: ProbeResult } | undefined;
  #pending: Promise<ProbeResult> | undefined;

  constructor(run: () => Promise<ProbeResult>, options: ClientAuthCheckOptions = {}) {
    this.#run = run;
    this.#okTtlMs = options.okTtlMs ?? 5 * 60_000;
    this.#failTtlMs = options.failTtlMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** The cached result while fresh, else a new probe. */
  result(): Promise<ProbeResult> {
    const last = this.#last;
    if (last && this.#now() - last.at < (last.result.ok ? this.#okTtlMs : this.#failTtlMs)) {
      return Promise.resolve(last.result);
    }
    this.#pending ??= this.#run()
      .catch((err: unknown) => ({ ok: false, message: describeError(err) }))
      .then((result) => {
        this.#last = { at: this.#now(), result };
        return result;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }
}
