// The browser side of offline access: /login and a POST to /connect start an authorization code
// flow (PKCE + nonce, state sealed in a browser-bound cookie; nothing is stored before sign-in) as
// the gateway client, /oauth/callback finishes it on any replica, /account shows and revokes what
// the user granted. DESIGN §2 and §6.5, ADR 0009.
import { randomBytes } from "node:crypto";
import type { Context } from "hono";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import * as oidc from "openid-client";
import type { Config } from "../config/index.ts";
import { describeError, GatewayError } from "../errors.ts";
import type { AppEnv } from "../http/env.ts";
import { revokeRefreshToken, type Idp } from "../idp/index.ts";
import { oauthErrorOf } from "../idp/oauth-error.ts";
import {
  findUser,
  lastJobRuns,
  offlineAccessState,
  recentActivity,
  userById,
  type OfflineAccessState,
} from "../store/account.ts";
import {
  endSessions,
  forgetLogoutToken,
  recordLogoutToken,
  upsertUser,
  type GrantStore,
  type ReplacedAtIdp,
  type SearchIndex,
  type Store,
} from "../store/index.ts";
import { keepaliveIdleMs } from "../jobs/index.ts";
import { backchannelLogout } from "./backchannel.ts";
import { page, pageHeaders, type Html } from "./html.ts";
import { LOGIN_TTL_SECONDS, LoginCookieSealer, sameState, type ReturnPath } from "./login-cookie.ts";
import { accountPage, connectPage, noticeKey, problemPage, signedOutPage, type NoticeKey } from "./pages.ts";
import { SESSION_TTL_SECONDS, type SessionSigner } from "./session.ts";

/** What the browser routes need; `offline` is absent when SEALING_KEYS is unset. */
export interface WebDeps {
  config: Config;
  store: Store;
  idp: () => Promise<Idp>;
  offline: { grants: GrantStore; sessions: SessionSigner; logins: LoginCookieSealer } | undefined;
  /** Keepalive settings, to tell users when their grant is refreshed next. */
  keepalive: { idleShare: number; idleTimeoutSeconds: number };
  /** The content index, when SEARCH_INDEX_ENABLED is on: its status, pause/resume and delete. */
  searchIndex?: SearchIndex | undefined;
}

/**
 * The login cookie outlives the sign-in it seals (whose expiry is inside it), so that a callback
 * after 10 minutes is told it is too old rather than that it started in another browser.
 */
const LOGIN_COOKIE_MAX_AGE_SECONDS = 6 * LOGIN_TTL_SECONDS;

/** Offline access as the MCP endpoint shows it to tools (offline_access_status and the /connect hint). */
export function offlineLookup(deps: WebDeps) {
  return {
    enabled: deps.offline !== undefined,
    connectUrl: `${deps.config.publicUrl}/connect`,
    accountUrl: `${deps.config.publicUrl}/account`,
    async lookup(issuer: string, subject: string): Promise<OfflineAccessState> {
      const user = await findUser(deps.store.db, issuer, subject);
      if (!user || !deps.offline) return { state: "none" };
      return offlineAccessState(await deps.offline.grants.latestGrant(user.id));
    },
  };
}
/** The account page's notice after /connect, by what happened at the IdP to the grant it replaced. */
const CONNECTED_NOTICE: Record<ReplacedAtIdp, NoticeKey> = {
  none: "connected",
  revoked: "reconnected",
  "same-session": "reconnected-same-session",
  "idp-failed": "reconnected-local-only",
  unreadable: "reconnected-local-only",
};

const ACCOUNT = { href: "/account", label: "Back to your account" } as const;
const START_AGAIN = { href: "/connect", label: "Start again" } as const;

/** The browser routes, mounted at the root of the app. */
export function webRoutes(deps: WebDeps): Hono<AppEnv> {
  const { config } = deps;
  const app = new Hono<AppEnv>();
  const secure = config.publicUrl.startsWith("https:");
  // __Host- cookies are bound to this exact origin (no Domain, Path=/, Secure): only on https.
  const sessionCookie = secure ? "__Host-ncmcp_session" : "ncmcp_session";
  const loginCookie = secure ? "__Host-ncmcp_login" : "ncmcp_login";
  const redirectUri = `${config.publicUrl}/oauth/callback`;
  const publicOrigin = new URL(config.publicUrl).origin;
  // The grant button's POST answers with a redirect to the IdP's authorization endpoint.
  const idpOrigin = new URL(config.oidc.issuer).origin;
  const connectScope = ["openid", "offline_access", config.nextcloud?.tokenScope ?? "nextcloud-audience"]
    .filter(Boolean)
    .join(" ");

  const send = (c: Context<AppEnv>, status: 200 | 400 | 403 | 409 | 500 | 503, title: string, body: Html) => {
    const nonce = randomBytes(16).toString("base64url");
    return c.body(page(title, body, nonce), status, pageHeaders(nonce, [idpOrigin]));
  };
  const problem = (
    c: Context<AppEnv>,
    status: 400 | 403 | 409 | 500 | 503,
    title: string,
    message: string,
    next: { href: string; label: string } = ACCOUNT,
  ) => send(c, status, title, problemPage(title, message, next));
  const redirect = (c: Context<AppEnv>, location: string) => {
    c.header("cache-control", "no-store");
    c.header("referrer-policy", "no-referrer");
    return c.redirect(location, 303);
  };

  /**
   * Starts a sign-in at the IdP: PKCE S256, nonce and a fresh state, all sealed in the login cookie
   * that binds the sign-in to this browser. Nothing is written to the database.
   */
  const startSignIn = async (c: Context<AppEnv>, purpose: "connect" | "login", returnTo: ReturnPath) => {
    if (!deps.offline) {
      return problem(
        c,
        503,
        purpose === "connect" ? "Offline access is not enabled" : "The account page is not enabled",
        purpose === "connect"
          ? "This gateway does not store offline access: its operator has not set SEALING_KEYS."
          : "The account page needs the gateway's key ring: its operator has not set SEALING_KEYS.",
      );
    }
    let idp: Idp;
    try {
      idp = await deps.idp();
    } catch (err) {
      c.get("log").warn({ err: describeError(err) }, "sign-in: identity provider unavailable");
      return problem(
        c,
        503,
        "Sign-in is unavailable",
        "The identity provider cannot be reached; try again in a moment.",
      );
    }
    const login = LoginCookieSealer.start({
      purpose,
      codeVerifier: oidc.randomPKCECodeVerifier(),
      nonce: oidc.randomNonce(),
      returnTo,
    });
    const url = oidc.buildAuthorizationUrl(idp.configuration, {
      redirect_uri: redirectUri,
      scope: purpose === "connect" ? connectScope : "openid",
      code_challenge: await oidc.calculatePKCECodeChallenge(login.codeVerifier),
      code_challenge_method: "S256",
      state: login.state,
      nonce: login.nonce,
    });
    // Binds the sign-in to this browser: a callback link started elsewhere is refused (login CSRF).
    setCookie(c, loginCookie, deps.offline.logins.seal(login), {
      httpOnly: true,
      secure,
      sameSite: "Lax",
      path: "/",
      maxAge: LOGIN_COOKIE_MAX_AGE_SECONDS,
    });
    return redirect(c, url.href);
  };

  // Signing in to the account page; `?next=connect` comes back to the /connect page afterwards.
  app.get("/login", (c) =>
    startSignIn(c, "login", c.req.query("next") === "connect" ? "/connect" : "/account"),
  );

  app.get("/oauth/callback", async (c) => {
    const log = c.get("log");
    const offline = deps.offline;
    if (!offline)
      return problem(c, 503, "Offline access is not enabled", "This gateway has no SEALING_KEYS.");
    const params = new URL(c.req.url).searchParams;
    const stateValue = params.get("state");
    if (stateValue === null || stateValue === "") {
      return problem(
        c,
        400,
        "Sign-in failed",
        "The identity provider sent no state; start the sign-in again.",
        START_AGAIN,
      );
    }
    const state = offline.logins.open(getCookie(c, loginCookie));
    // One callback per cookie: whatever happens next, this browser has to start again.
    deleteCookie(c, loginCookie, { path: "/", secure });
    if (state === "expired") {
      log.info("callback with an expired sign-in refused");
      return problem(
        c,
        400,
        "This sign-in link is no longer valid",
        "The sign-in is older than 10 minutes. Start it again.",
        START_AGAIN,
      );
    }
    if (state === "missing") {
      log.info("callback without a usable login cookie refused");
      return problem(
        c,
        400,
        "This sign-in link is no longer valid",
        "It was used already, is older than 10 minutes, or did not start in this browser. Start the sign-in again from this browser.",
        START_AGAIN,
      );
    }
    if (!sameState(stateValue, state.state)) {
      log.warn("callback refused: the state was not started in this browser");
      return problem(
        c,
        400,
        "This sign-in was started elsewhere",
        "The sign-in did not start in this browser, or another sign-in was started here since. Start it again from this browser.",
        START_AGAIN,
      );
    }
    const idpError = params.get("error");
    if (idpError !== null) {
      log.info({ error: idpError }, "the identity provider returned an error to the callback");
      const message =
        idpError === "access_denied"
          ? "You did not grant the access at the identity provider, so nothing changed."
          : `The identity provider answered "${idpError}", so nothing changed. Try again, or ask your administrator.`;
      return problem(c, 400, "Sign-in not completed", message, ACCOUNT);
    }
    let idp: Idp;
    let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    try {
      idp = await deps.idp();
      // The URL the IdP redirected to, built from the configured public URL, never from Host.
      const currentUrl = new URL(`${redirectUri}?${params.toString()}`);
      tokens = await oidc.authorizationCodeGrant(idp.configuration, currentUrl, {
        pkceCodeVerifier: state.codeVerifier,
        expectedNonce: state.nonce,
        expectedState: stateValue,
        idTokenExpected: true,
      });
    } catch (err) {
      const said = oauthErrorOf(err);
      log.warn({ err: describeError(err) }, "callback: the code could not be redeemed");
      if (said === undefined && !(err instanceof oidc.ClientError)) {
        return problem(
          c,
          503,
          "Sign-in is unavailable",
          "The identity provider cannot be reached; try again in a moment.",
          START_AGAIN,
        );
      }
      return problem(
        c,
        400,
        "Sign-in failed",
        "The identity provider did not accept this sign-in (it may have expired or been used). Start it again.",
        START_AGAIN,
      );
    }
    const claims = tokens.claims();
    if (!claims)
      return problem(c, 500, "Sign-in failed", "The identity provider sent no ID token.", START_AGAIN);
    const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
    const user = await upsertUser(deps.store.db, {
      issuer: config.oidc.issuer,
      subject: claims.sub,
      username: str(claims.preferred_username),
      email: str(claims.email),
      displayName: str(claims.name),
    });
    let notice: NoticeKey = "signedin";
    if (state.purpose === "connect") {
      const granted = (tokens.scope ?? "").split(" ");
      if (tokens.refresh_token === undefined || !granted.includes("offline_access")) {
        log.warn({ scope: tokens.scope }, "connect: the identity provider granted no offline access");
        return problem(
          c,
          403,
          "Offline access was not granted",
          "The identity provider did not grant offline access. Your account may lack the offline_access role; ask your administrator.",
          ACCOUNT,
        );
      }
      const { replaced } = await offline.grants.connect(
        user.id,
        claims.sub,
        tokens.refresh_token,
        tokens.scope ?? connectScope,
        (rt) => revokeRefreshToken(idp, rt),
      );
      notice = CONNECTED_NOTICE[replaced];
      log.info({ sub: user.subject_hash, replaced }, "offline access granted");
    }
    setCookie(
      c,
      sessionCookie,
      offline.sessions.sign({
        userId: user.id,
        version: user.session_version,
        expiresAt: Math.floor(Date.now() / 1000) + SESSION_TTL_SECONDS,
      }),
      { httpOnly: true, secure, sameSite: "Lax", path: "/", maxAge: SESSION_TTL_SECONDS },
    );
    return redirect(c, state.returnTo === "/connect" ? "/connect" : `/account?notice=${notice}`);
  });

  /** The signed-in user and the session cookie's value, or undefined. */
  const signedIn = async (c: Context<AppEnv>) => {
    const value = getCookie(c, sessionCookie);
    const session = deps.offline?.sessions.verify(value);
    if (!session || value === undefined) return undefined;
    const user = await userById(deps.store.db, session.userId);
    // A sign-out or back-channel logout since the cookie was issued ends it (on every replica).
    if (user?.session_version !== session.version) return undefined;
    return { user, cookie: value };
  };

  app.get("/account", async (c) => {
    const notice = noticeKey(c.req.query("notice"));
    const offline = deps.offline;
    const who = await signedIn(c);
    if (!offline || !who) return send(c, 200, "Your account", signedOutPage(notice));
    const [grant, jobs, activity] = await Promise.all([
      offline.grants.latestGrant(who.user.id),
      lastJobRuns(deps.store.db, ["grants-keepalive", "grants-reencrypt", "housekeeping", "search-index"]),
      recentActivity(deps.store.db, who.user.id),
    ]);
    const searchIndex = deps.searchIndex && { status: await deps.searchIndex.status(who.user.id) };
    const lastRefresh = grant && (grant.last_refreshed_at ?? grant.created_at);
    return send(
      c,
      200,
      "Your account",
      accountPage({
        user: who.user,
        offline: offlineAccessState(grant),
        nextRefreshDue:
          lastRefresh &&
          new Date(
            lastRefresh.getTime() +
              keepaliveIdleMs(deps.keepalive.idleShare, deps.keepalive.idleTimeoutSeconds),
          ),
        jobs,
        activity,
        formToken: offline.sessions.formToken(who.cookie),
        notice,
        searchIndex,
      }),
    );
  });

  /** A POST from the account page: same origin, signed in, with the page's form token. */
  const formPost = async (c: Context<AppEnv>) => {
    const origin = c.req.header("origin");
    const refuse = (why: string) => {
      c.get("log").warn({ why }, "account form refused");
      return "forbidden" as const;
    };
    if (origin !== undefined && origin !== publicOrigin)
      return refuse(`origin ${origin} is not ${publicOrigin}`);
    const who = await signedIn(c);
    if (!who) return "signed-out" as const;
    const body = await c.req.parseBody();
    const token = typeof body.form_token === "string" ? body.form_token : undefined;
    if (!deps.offline?.sessions.checkFormToken(who.cookie, token))
      return refuse("missing or wrong form token");
    return who;
  };

  // A GET never starts the grant (any site can send a browser here): it shows the page whose button
  // does, a same-origin POST carrying the session's form token.
  app.get("/connect", async (c) => {
    if (!deps.offline) {
      return problem(
        c,
        503,
        "Offline access is not enabled",
        "This gateway does not store offline access: its operator has not set SEALING_KEYS.",
      );
    }
    const who = await signedIn(c);
    const formToken = who && deps.offline.sessions.formToken(who.cookie);
    return send(
      c,
      200,
      "Grant offline access",
      connectPage(who && formToken ? { user: who.user, formToken } : undefined),
    );
  });

  app.post("/connect", async (c) => {
    const who = await formPost(c);
    if (who === "signed-out") return redirect(c, "/connect");
    if (who === "forbidden") {
      return problem(
        c,
        403,
        "Request refused",
        "This request did not come from the gateway's own page. Open /connect and use its button.",
        { href: "/connect", label: "Open the page" },
      );
    }
    return startSignIn(c, "connect", "/account");
  });

  app.post("/account/disconnect", async (c) => {
    const who = await formPost(c);
    if (who === "signed-out") return redirect(c, "/account");
    if (who === "forbidden" || !deps.offline) {
      return problem(
        c,
        403,
        "Request refused",
        "This request did not come from your account page. Reload it and try again.",
      );
    }
    const { grants } = deps.offline;
    let revokedAtIdp: boolean;
    try {
      const idp = await deps.idp().catch((err: unknown) => {
        throw new GatewayError(
          "temporarily_unavailable",
          "The identity provider cannot be reached; nothing was deleted. Try again in a moment.",
          {
            cause: err,
          },
        );
      });
      ({ revokedAtIdp } = await grants.disconnect(who.user.id, (rt) => revokeRefreshToken(idp, rt)));
    } catch (err) {
      c.get("log").warn({ sub: who.user.subject_hash, err: describeError(err) }, "disconnect failed");
      const status = err instanceof GatewayError && err.status === 503 ? 503 : 500;
      const message =
        err instanceof GatewayError
          ? err.description
          : "Disconnecting failed; nothing was deleted. Try again.";
      return problem(c, status, "Offline access not revoked", message);
    }
    c.get("log").info({ sub: who.user.subject_hash, revokedAtIdp }, "offline access disconnected");
    return redirect(c, `/account?notice=${revokedAtIdp ? "disconnected" : "removed"}`);
  });

  // The user's own content index: pause, resume, delete (same-origin POSTs with the form token).
  const INDEX_ACTIONS = {
    pause: "index-paused",
    resume: "index-resumed",
    delete: "index-deleted",
  } as const satisfies Record<string, NoticeKey>;
  for (const [action, notice] of Object.entries(INDEX_ACTIONS)) {
    app.post(`/account/index/${action}`, async (c) => {
      const who = await formPost(c);
      if (who === "signed-out") return redirect(c, "/account");
      if (who === "forbidden" || !deps.searchIndex) {
        return problem(
          c,
          403,
          "Request refused",
          "This request did not come from your account page. Reload it and try again.",
        );
      }
      if (action === "delete") {
        // A paused index stays paused: deleting does not start it again.
        const paused = (await deps.searchIndex.status(who.user.id))?.paused === true;
        await deps.searchIndex.deleteAll(who.user.id);
        if (paused) await deps.searchIndex.setPaused(who.user.id, true);
      } else await deps.searchIndex.setPaused(who.user.id, action === "pause");
      c.get("log").info({ sub: who.user.subject_hash, action }, "search index changed by its user");
      return redirect(c, `/account?notice=${notice}`);
    });
  }

  app.post("/account/logout", async (c) => {
    const who = await formPost(c);
    if (who === "forbidden") {
      return problem(
        c,
        403,
        "Request refused",
        "This request did not come from your account page. Reload it and try again.",
      );
    }
    // Ends this cookie and every copy of it, and the user's sessions in other browsers, everywhere.
    if (who !== "signed-out") await endSessions(deps.store.db, who.user.id);
    deleteCookie(c, sessionCookie, { path: "/", secure });
    return redirect(c, "/account?notice=signedout");
  });

  app.post(
    "/oauth/backchannel-logout",
    backchannelLogout({
      issuer: config.oidc.issuer,
      clientId: config.oidc.clientId,
      idp: deps.idp,
      maxAgeSeconds: config.logoutTokenMaxAgeSeconds,
      recordUse: (jti, expiresAt) => recordLogoutToken(deps.store.db, config.oidc.issuer, jti, expiresAt),
      forgetUse: (jti) => forgetLogoutToken(deps.store.db, config.oidc.issuer, jti),
      logoutUser: async (subject, sid, reason) => {
        const user = await findUser(deps.store.db, config.oidc.issuer, subject);
        if (!user) return 0;
        const { revoked, echo } = deps.offline
          ? await deps.offline.grants.logoutSession(user.id, sid, reason)
          : { revoked: 0, echo: false };
        // The IdP's echo of the gateway's own revocation (reconnect, disconnect) ends no session.
        if (!echo) await endSessions(deps.store.db, user.id);
        return revoked;
      },
    }),
  );

  return app;
}
