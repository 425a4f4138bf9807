import { createRemoteJWKSet, type RemoteJWKSet } from "jose";
import * as oidc from "openid-client";
import type { Config } from "../config/index.ts";
import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";

/** What the gateway needs to know to reach its IdP. */
export interface IdpSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Plain http allowed (loopback issuers always are). */
  allowInsecureHttp: boolean;
  timeoutMs: number;
}

/** The IdP settings of the gateway's configuration. */
export function idpSettingsOf(config: Config): IdpSettings {
  return {
    issuer: config.oidc.issuer,
    clientId: config.oidc.clientId,
    clientSecret: config.oidc.clientSecret,
    allowInsecureHttp: config.allowInsecureHttp,
    timeoutMs: config.outboundTimeoutMs,
  };
}

/** Where loading the IdP stands; `/readyz` and `check` report it. */
export interface IdpStatus {
  discovery: "pending" | "loaded" | "failed";
  jwks: "pending" | "loaded" | "failed";
  /** Why the last attempt failed, without secrets. */
  error?: string;
}

/** The IdP as the gateway sees it: discovery metadata, the client configuration and the JWKS. */
export interface Idp {
  readonly configuration: oidc.Configuration;
  readonly metadata: oidc.ServerMetadata;
  readonly jwks: RemoteJWKSet;
}

/**
 * Loads discovery (OpenID Connect Discovery 1.0 §4) and the JWKS, and keeps trying in the background
 * until both are loaded, so that a gateway started before its IdP becomes ready by itself.
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
 */
export class IdpClient {
  readonly #settings: IdpSettings;
  readonly #log: Logger;
  #idp: Idp | undefined;
  #status: IdpStatus = { discovery: "pending", jwks: "pending" };
  #timer: NodeJS.Timeout | undefined;
  #loading: Promise<Idp> | undefined;
  #stopped = false;

  constructor(settings: IdpSettings, log: Logger) {
    this.#settings = settings;
    this.#log = log;
  }

  get status(): IdpStatus {
    return { ...this.#status };
  }

  /** The loaded IdP, or undefined while discovery or the JWKS are not yet loaded. */
  get current(): Idp | undefined {
    return this.#idp;
  }

  /** Loads discovery and the JWKS once; rejects with a clear message when the IdP cannot be used. */
  load(): Promise<Idp> {
    if (this.#idp) return Promise.resolve(this.#idp);
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** Loads now and, on failure, retries with capped exponential backoff until it succeeds or stop() is called. */
  startBackgroundLoad(): void {
    let delay = 1000;
    const attempt = () => {
      if (this.#stopped || this.#idp) return;
      this.load().then(
        () => {
          this.#log.info({ issuer: this.#settings.issuer }, "identity provider loaded");
        },
        (err: unknown) => {
          if (this.#stopped) return;
          this.#log.warn(
            { issuer: this.#settings.issuer, err: describeError(err), retryInMs: delay },
            "identity provider not usable yet",
          );
          this.#timer = setTimeout(attempt, delay);
          this.#timer.unref();
          delay = Math.min(delay * 2, 30_000);
        },
      );
    };
    attempt();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #load(): Promise<Idp> {
    const { issuer, clientId, clientSecret, timeoutMs } = this.#settings;
    const insecure = this.#settings.allowInsecureHttp || new URL(issuer).protocol === "http:";
    let configuration: oidc.Configuration;
    try {
      configuration = await oidc.discovery(
        new URL(issuer),
        clientId,
        undefined,
        oidc.ClientSecretPost(clientSecret),
        {
          timeout: Math.ceil(timeoutMs / 1000),
          // Plain http only for loopback issuers or when the operator allowed it (ALLOW_INSECURE_HTTP).
          // eslint-disable-next-line @typescript-eslint/no-deprecated
          ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
        },
      );
    } catch (err) {
      this.#status = {
        discovery: "failed",
        jwks: "pending",
        error: `discovery at ${issuer}: ${discoveryFailure(err, issuer)}`,
      };
      throw new Error(this.#status.error, { cause: err });
    }
    const metadata = configuration.serverMetadata();
    this.#status = { discovery: "loaded", jwks: "pending" };
    if (!metadata.jwks_uri) {
      this.#status = { discovery: "loaded", jwks: "failed", error: "the discovery document has no jwks_uri" };
      throw new Error(this.#status.error);
    }
    const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri), {
      timeoutDuration: timeoutMs,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
    try {
      await jwks.reload();
      if (!jwks.jwks()?.keys.length) throw new Error("the JWKS has no keys");
    } catch (err) {
      this.#status = {
        discovery: "loaded",
        jwks: "failed",
        error: `JWKS at ${metadata.jwks_uri}: ${describeError(err)}`,
      };
      throw new Error(this.#status.error, { cause: err });
    }
    this.#status = { discovery: "loaded", jwks: "loaded" };
    this.#idp = { configuration, metadata, jwks };
    return this.#idp;
  }
}

/**
 * Why discovery failed, in the operator's terms: the HTTP status and the URL tried (a wrong realm
 * answers 404), or both issuers when the document names another one than OIDC_ISSUER.
 */
export function discoveryFailure(err: unknown, issuer: string): string {
  if (err instanceof oidc.ClientError) {
    if (err.code === "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED") {
      const cause = err.cause as { body?: { issuer?: unknown } } | undefined;
      const named = typeof cause?.body?.issuer === "string" ? cause.body.issuer : "(none)";
      return `the IdP's discovery document names the issuer ${named}, but OIDC_ISSUER is ${issuer}; set OIDC_ISSUER to exactly the issuer the IdP names (Keycloak: its hostname setting plus /realms/<realm>), the one in its tokens' iss`;
    }
    if (err.cause instanceof Response) {
      const { status, url } = err.cause;
      const hint =
        status === 404 ? "; no realm (or issuer path) there: check the realm name in OIDC_ISSUER" : "";
      return `HTTP ${status} from ${url}${hint}`;
    }
  }
  return describeError(err);
}

/** The IdP's token endpoint, for log details (the issuer when discovery named none). */
export function tokenEndpointOf(idp: Idp): string {
  return idp.metadata.token_endpoint ?? `${idp.metadata.issuer} (no token_endpoint)`;
}
