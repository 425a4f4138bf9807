// Index hits of calendars, tasks, contacts and Deck cards: the check on read with the user's current
// token (PROPFIND Depth 0 on the calendar object or vCard; GET of the Deck card), and the hit shape
// with the tool call that opens the item (calendar_events id, calendar_tasks, contacts_get,
// deck_get_card).
import { davRequest, NextcloudError, type NextcloudClient } from "../../nextcloud/index.ts";
import { deckCapability, DeckClient } from "../deck/client.ts";

/** The sources this module checks and shapes. */
export const GROUPWARE_SOURCES = ["calendar", "tasks", "contacts", "deck"] as const;
export type GroupwareSource = (typeof GROUPWARE_SOURCES)[number];

/** What a check on read found: still readable, gone (or no longer readable), or not known now. */
export type Verdict = "ok" | "gone" | "unchecked";

const PROPFIND_ETAG = `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>`;

/** Two names from "a/b"; undefined when the key has another shape. */
function pair(key: string): [string, string] | undefined {
  const at = key.indexOf("/");
  if (at <= 0 || at === key.length - 1 || key.indexOf("/", at + 1) !== -1) return undefined;
  return [key.slice(0, at), key.slice(at + 1)];
}

/** Three positive ids from "board/stack/card". */
function deckIds(key: string): [number, number, number] | undefined {
  const ids = key.split("/").map(Number);
  return ids.length === 3 && ids.every((n) => Number.isSafeInteger(n) && n > 0)
    ? (ids as [number, number, number])
    : undefined;
}

const verdictOf = (err: unknown): Verdict => {
  if (!(err instanceof NextcloudError)) throw err;
  if (err.kind === "unauthorized") throw err;
  return err.kind === "not_found" || err.kind === "forbidden" ? "gone" : "unchecked";
};

/** Whether the item behind a calendar, tasks, contacts or Deck hit still exists and is readable. */
export async function verifyGroupware(
  nc: NextcloudClient,
  hit: { source: GroupwareSource; key: string },
  signal?: AbortSignal,
): Promise<Verdict> {
  try {
    if (hit.source === "deck") {
      const ids = deckIds(hit.key);
      const cap = await deckCapability(nc);
      if (ids === undefined || cap === undefined) return "gone";
      const deck = new DeckClient(
        nc,
        signal ?? new AbortController().signal,
        cap.apiVersions.includes("1.1") ? "1.1" : "1.0",
      );
      const got = await deck.getCard(...ids);
      return !got.notModified && (got.value.deletedAt ?? 0) > 0 ? "gone" : "ok";
    }
    const names = pair(hit.key);
    if (names === undefined) return "gone";
    const res = await davRequest(nc.options, {
      method: "PROPFIND",
      tree: hit.source === "contacts" ? "addressbooks" : "calendars",
      uid: await nc.userId(),
      path: names,
      what: hit.source === "contacts" ? `contact "${names[1]}"` : `calendar object "${names[1]}"`,
      depth: "0",
      contentType: "application/xml; charset=utf-8",
      body: PROPFIND_ETAG,
      ...(signal === undefined ? {} : { signal }),
    });
    return res.status === 207 ? "ok" : "unchecked";
  } catch (err) {
    return verdictOf(err);
  }
}

/** The parts of a groupware hit the search tool shows. */
export interface GroupwareHitShape {
  url: string;
  id: string | number;
  open: { tool: string; arguments: Record<string, string | number> };
}

/**
 * The link, id and opening tool call of a calendar, tasks, contacts or Deck hit; `uid` is the user's
 * Nextcloud uid (calendar links carry the object's DAV path).
 */
export function groupwareHit(
  base: string,
  uid: string,
  hit: { source: GroupwareSource; key: string; title: string; container: string },
): GroupwareHitShape {
  const [first = "", second = ""] = pair(hit.key) ?? [];
  switch (hit.source) {
    case "calendar": {
      const dav = `/remote.php/dav/calendars/${encodeURIComponent(uid)}/${encodeURIComponent(first)}/${encodeURIComponent(second)}`;
      return {
        url: `${base}/index.php/apps/calendar/edit/${Buffer.from(dav).toString("base64")}`,
        id: hit.key,
        open: { tool: "calendar_events", arguments: { id: hit.key } },
      };
    }
    case "tasks":
      return {
        url: `${base}/index.php/apps/tasks/calendars/${encodeURIComponent(first)}/tasks/${encodeURIComponent(second)}`,
        id: hit.key,
        // calendar_tasks lists rather than reads one task: it finds it by its title.
        open: { tool: "calendar_tasks", arguments: { query: hit.title, status: "all" } },
      };
    case "contacts":
      return {
        url: `${base}/index.php/apps/contacts`,
        id: second,
        open: { tool: "contacts_get", arguments: { book: first, id: second } },
      };
    case "deck": {
      const [board = 0, stack = 0, card = 0] = deckIds(hit.key) ?? [];
      return {
        url: `${base}/index.php/apps/deck/board/${String(board)}/card/${String(card)}`,
        id: card,
        open: { tool: "deck_get_card", arguments: { board, stack, card } },
      };
    }
  }
}
