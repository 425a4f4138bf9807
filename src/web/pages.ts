// The account page and the short pages of the sign-in flow, rendered on the server.
import type { LastJobRun, ActivityEntry, OfflineAccessState } from "../store/account.ts";
import type { IndexStatus, User } from "../store/index.ts";
import { html, type Html } from "./html.ts";

/** Messages the account page shows after an action, selected by a fixed key (never reflected input). */
export const NOTICES = {
  connected: "Offline access granted. Background jobs can now work for you.",
  reconnected:
    "Offline access granted. Your previous grant was revoked at the identity provider and deleted from the gateway.",
  "reconnected-same-session":
    "Offline access granted. Your previous grant belonged to the same sign-in session at the identity provider, which now carries the new grant; its old token was deleted from the gateway.",
  "reconnected-local-only":
    "Offline access granted. The identity provider could not revoke your previous grant just now, so its token was deleted from the gateway only: it stays valid at the identity provider until it expires there. To end it now, sign out of the gateway's sessions in your identity provider's account console.",
  signedin: "You are signed in.",
  disconnected: "Offline access revoked at the identity provider and deleted from the gateway.",
  removed:
    "The record of your offline access was deleted from the gateway. It was already revoked, so there was nothing left to revoke at the identity provider.",
  signedout: "You are signed out of this page.",
  "index-paused": "Your search index is paused: it is kept as it is, and search asks Nextcloud live.",
  "index-resumed": "Your search index is kept up to date again.",
  "index-deleted":
    "Your search index was deleted. It is built again while offline access is granted, unless you pause indexing.",
} as const;
export type NoticeKey = keyof typeof NOTICES;

/**
 * The notice a query value names, or undefined. An own-property check: `toString`, `constructor`
 * or `__proto__` name nothing (an `in` check would find them on Object.prototype).
 */
export function noticeKey(value: string | undefined): NoticeKey | undefined {
  return value !== undefined && Object.hasOwn(NOTICES, value) ? (value as NoticeKey) : undefined;
}

/** `table[key]` when `key` is the table's own property (never something from Object.prototype). */
function own(table: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

const JOB_TEXT: Record<string, string> = {
  "grants-keepalive": "Refreshes your offline access before the identity provider lets it expire.",
  "grants-reencrypt": "Re-encrypts stored offline access when the operator rotates keys.",
  housekeeping: "Deletes old job runs and audit records.",
  "search-index": "Keeps the search index of your files and notes up to date.",
};

const ACTION_TEXT: Record<string, string> = {
  connect: "Offline access granted",
  refresh: "Offline access refreshed",
  revoke: "Offline access revoked",
  disconnect: "Offline access removed",
};

/** `2026-11-23 17:30 UTC` in a <time> element. */
function when(date: Date | null | undefined): Html {
  if (!date) return html`never`;
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace("T", " ")} UTC</time>`;
}

/** What the account page shows. */
export interface AccountView {
  user: User;
  /** The user's content index; undefined when the gateway keeps none (SEARCH_INDEX_ENABLED off). */
  searchIndex?: { status: IndexStatus | undefined } | undefined;
  offline: OfflineAccessState;
  /** When the keepalive job will refresh the active grant next. */
  nextRefreshDue: Date | undefined;
  jobs: LastJobRun[];
  activity: ActivityEntry[];
  formToken: string;
  notice: NoticeKey | undefined;
}

/** The button that starts the offline grant: a same-origin POST with the session's form token. */
function grantForm(formToken: string, label: string): Html {
  return html`<form method="post" action="/connect">
    <input type="hidden" name="form_token" value="${formToken}" /><button type="submit">${label}</button>
  </form>`;
}

function offlineSection(view: AccountView): Html {
  const { offline, formToken } = view;
  if (offline.state === "none") {
    return html`<p id="offline-status">
        <strong>Not granted.</strong> The gateway can act for you only while your MCP client is connected.
      </p>
      <p>
        Granting offline access lets background jobs work for you (for example keeping search up to date). You
        can revoke it here at any time.
      </p>
      <div class="actions">${grantForm(formToken, "Grant offline access")}</div>`;
  }
  const g = offline.grant;
  if (offline.state === "revoked") {
    return html`<p id="offline-status">
        <strong>Revoked.</strong> Background jobs cannot work for you until you reconnect.
      </p>
      <dl>
        <dt>Granted</dt>
        <dd>${when(g.created_at)}</dd>
        <dt>Revoked</dt>
        <dd>${when(g.revoked_at)}</dd>
        <dt>Reason</dt>
        <dd id="revoked-reason">${g.revoked_reason ?? "not recorded"}</dd>
      </dl>
      <div class="actions">
        ${grantForm(formToken, "Reconnect")}
        <form method="post" action="/account/disconnect">
          <input type="hidden" name="form_token" value="${formToken}" /><button
            type="submit"
            class="secondary"
          >
            Remove the record
          </button>
        </form>
      </div>`;
  }
  return html`<p id="offline-status"><strong>Granted.</strong> Background jobs can work for you.</p>
    <dl>
      <dt>Granted</dt>
      <dd>${when(g.created_at)}</dd>
      <dt>Last refreshed</dt>
      <dd>${when(g.last_refreshed_at)}</dd>
      <dt>Last used</dt>
      <dd>${when(g.last_used_at)}</dd>
      <dt>Scope</dt>
      <dd>${g.scope}</dd>
    </dl>
    <div class="actions">
      <form method="post" action="/account/disconnect">
        <input type="hidden" name="form_token" value="${formToken}" /><button type="submit" class="danger">
          Revoke offline access
        </button>
      </form>
    </div>`;
}

function jobsSection(view: AccountView): Html {
  const names = Object.keys(JOB_TEXT).filter((n) => n !== "search-index" || view.searchIndex !== undefined);
  const rows = names.map((name) => {
    const run = view.jobs.find((j) => j.job === name);
    const forYou =
      name === "grants-keepalive" && view.offline.state === "active"
        ? html`Next refresh of your access after ${when(view.nextRefreshDue)}`
        : html``;
    return html`<tr>
      <th scope="row">${name}</th>
      <td>${own(JOB_TEXT, name)} ${forYou}</td>
      <td>${run ? html`${when(run.finishedAt)}: ${run.outcome}` : "not run yet"}</td>
    </tr>`;
  });
  return html`<table>
    <caption class="visually-hidden">
      Background jobs and their last runs
    </caption>
    <thead>
      <tr>
        <th scope="col">Job</th>
        <th scope="col">What it does</th>
        <th scope="col">Last run</th>
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

/** A button that POSTs the page's form token to `action`. */
function postButton(action: string, formToken: string, label: string, cls: string): Html {
  return html`<form method="post" action="${action}">
    <input type="hidden" name="form_token" value="${formToken}" /><button type="submit" class="${cls}">
      ${label}
    </button>
  </form>`;
}

function indexSection(status: IndexStatus | undefined, formToken: string): Html {
  const about = html`<p>
    With offline access granted, the gateway keeps a full-text index of your files and notes, so that search
    finds words inside them quickly. Every hit is checked with Nextcloud before it is shown.
  </p>`;
  if (status === undefined) {
    return html`${about}
      <p id="index-status">No index yet: it is built while offline access is granted.</p>`;
  }
  const state = status.paused
    ? "Paused"
    : status.readyAt === null
      ? "Being built (search asks Nextcloud live until it is complete)"
      : "Ready";
  return html`${about}
    <p id="index-status"><strong>${state}.</strong></p>
    <dl>
      <dt>Items</dt>
      <dd id="index-items">${String(status.items)}</dd>
      <dt>Complete since</dt>
      <dd>${when(status.readyAt)}</dd>
      <dt>Last run</dt>
      <dd>${when(status.lastRunAt)}</dd>
      ${
        status.lastError === null
          ? ""
          : html`<dt>Last error</dt>
              <dd id="index-error">${status.lastError}</dd>`
      }
    </dl>
    <div class="actions">
      ${
        status.paused
          ? postButton("/account/index/resume", formToken, "Resume indexing", "secondary")
          : postButton("/account/index/pause", formToken, "Pause indexing", "secondary")
      }
      ${postButton("/account/index/delete", formToken, "Delete the index", "danger")}
    </div>`;
}

function activitySection(view: AccountView): Html {
  if (view.activity.length === 0) return html`<p>Nothing yet.</p>`;
  return html`<ul>
    ${view.activity.map((a) => {
      const reason = typeof a.detail.reason === "string" ? html`: ${a.detail.reason}` : html``;
      return html`<li>${when(a.at)} ${own(ACTION_TEXT, a.action) ?? a.action}${reason}</li>`;
    })}
  </ul>`;
}

/** The account page of a signed-in user. */
export function accountPage(view: AccountView): Html {
  const { user } = view;
  const name = user.display_name ?? user.username ?? "you";
  return html`<h1>Your gateway account</h1>
    ${view.notice ? html`<p class="notice" role="status">${NOTICES[view.notice]}</p>` : ""}
    <p>
      Signed in as
      <strong id="user-name">${name}</strong
      >${user.username && user.username !== name ? html` (${user.username})` : ""}${user.email ? html`, ${user.email}` : ""}.
    </p>
    <h2>Offline access</h2>
    ${offlineSection(view)}
    ${
      view.searchIndex === undefined
        ? ""
        : html`<h2>Search index</h2>
            ${indexSection(view.searchIndex.status, view.formToken)}`
    }
    <h2>Background jobs</h2>
    ${jobsSection(view)}
    <h2>Recent activity</h2>
    ${activitySection(view)}
    <h2>Session</h2>
    <form method="post" action="/account/logout">
      <input type="hidden" name="form_token" value="${view.formToken}" /><button
        type="submit"
        class="secondary"
      >
        Sign out of this page
      </button>
    </form>`;
}

/** The account page before sign-in. */
export function signedOutPage(notice: NoticeKey | undefined): Html {
  return html`<h1>Your gateway account</h1>
    ${notice ? html`<p class="notice" role="status">${NOTICES[notice]}</p>` : ""}
    <p>Sign in with your company account to see and manage what the Nextcloud MCP gateway may do for you.</p>
    <div class="actions">
      <a class="button" href="/login">Sign in</a
      ><a class="button secondary" href="/login?next=connect">Sign in and grant offline access</a>
    </div>`;
}

/** A page that explains why something did not work and what to do. */
export function problemPage(title: string, message: string, next: { href: string; label: string }): Html {
  return html`<h1>${title}</h1>
    <p class="notice error" role="alert">${message}</p>
    <div class="actions"><a class="button" href="${next.href}">${next.label}</a></div>`;
}

/**
 * /connect: what offline access is and the one button that grants it (signed in), or the sign-in
 * that comes back here (signed out). Opening this page never starts the grant by itself.
 */
export function connectPage(signedIn: { user: User; formToken: string } | undefined): Html {
  const intro = html`<h1>Grant offline access</h1>
    <p>
      Offline access lets the Nextcloud MCP gateway work for you in the background while no MCP client is
      connected (for example keeping search up to date). You can revoke it on your account page at any time.
    </p>`;
  if (!signedIn) {
    return html`${intro}
      <p>Sign in with your company account first; you come back to this page to confirm.</p>
      <div class="actions"><a class="button" href="/login?next=connect">Sign in to continue</a></div>`;
  }
  const { user } = signedIn;
  const name = user.display_name ?? user.username ?? "you";
  return html`${intro}
    <p>Signed in as <strong id="user-name">${name}</strong>.</p>
    <div class="actions">
      ${grantForm(signedIn.formToken, "Grant offline access")}<a class="button secondary" href="/account"
        >Not now</a
      >
    </div>`;
}
