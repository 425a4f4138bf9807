import type { JWTVerifyGetKey, RemoteJWKSet } from "jose";
import * as oidc from "openid-client";
import type { Config } from "../config/index.ts";
import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { outageTolerantKeys, remoteKeys } from "./keys.ts";

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
  /**
   * The key set access tokens are verified with: `jwks`, but usable from the keys last fetched
   * while the IdP cannot be reached (keys.ts).
   */
  readonly keys: JWTVerifyGetKey;
}

/** Whether the IdP answered lately; `/readyz` reports it. */
export interface IdpReachability {
  /** Undefined until the first probe after discovery loaded has answered. */
  reachable: boolean | undefined;
  /** Why the last probe failed, without secrets. */
  error?: string;
}

/** How old a reachability result may be before `/readyz` asks for a new one (in the background). */
export const REACHABILITY_MAX_AGE_MS = 5_000;

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
  #reach: { at: number; reachable: boolean; error?: string } | undefined;
  #probing = false;

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

  /**
   * The IdP's reachability as last seen: answered by its discovery document (GET, bounded by the
   * outbound timeout) or by the key set's fetches. When the result is older than `maxAgeMs` a new
   * probe starts in the background; the caller never waits for the IdP.
   */
  reachability(maxAgeMs = REACHABILITY_MAX_AGE_MS, now = Date.now()): IdpReachability {
    if (this.#idp && !this.#probing && (this.#reach === undefined || now - this.#reach.at > maxAgeMs)) {
      this.#probing = true;
      void this.#probe().finally(() => {
        this.#probing = false;
      });
    }
    const r = this.#reach;
    return r === undefined
      ? { reachable: undefined }
      : { reachable: r.reachable, ...(r.error === undefined ? {} : { error: r.error }) };
  }

  async #probe(): Promise<void> {
    const url = new URL(`${this.#settings.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.#settings.timeoutMs) });
      await res.body?.cancel();
      this.#noteReach(res.ok, res.ok ? undefined : `HTTP ${String(res.status)} from ${url.href}`);
    } catch (err) {
      this.#noteReach(false, `${url.href}: ${describeError(err)}`);
    }
  }

  #noteReach(reachable: boolean, error?: string): void {
    const was = this.#reach?.reachable;
    this.#reach = { at: Date.now(), reachable, ...(error === undefined ? {} : { error }) };
    if (was !== false && !reachable) {
      this.#log.warn({ issuer: this.#settings.issuer, err: error }, "identity provider unreachable");
    } else if (was === false && reachable) {
      this.#log.info({ issuer: this.#settings.issuer }, "identity provider reachable again");
    }
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
    const fetched = remoteKeys(new URL(metadata.jwks_uri), { timeoutMs });
    const jwks = fetched.remote;
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
    const keys = outageTolerantKeys(fetched, {
      onOutage: (err) => {
        this.#noteReach(false, `JWKS at ${metadata.jwks_uri}: ${describeError(err)}`);
      },
      onRecovery: () => {
        this.#noteReach(true);
      },
    });
    this.#idp = { configuration, metadata, jwks, keys };
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
