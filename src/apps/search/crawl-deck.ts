// The Deck part of an indexing pass, for users whose capabilities carry `deck`: the board list with
// If-None-Match (304: nothing changed on any board, one request), then only the boards whose ETag
// (else lastModified) changed since the last pass are read again, their lists with the cards in them.
// Deck changes a board's ETag and lastModified when any card on it changes (ChangeHelper). A card is
// indexed by "board/stack/card" (what deck_get_card takes), titled by its title, its body its
// description. Boards that are gone or deleted take their cards with them; Deck off takes them all.
import { NextcloudError, type NextcloudClient } from "../../nextcloud/index.ts";
import { deckCapability, DeckClient } from "../deck/client.ts";
import type { RawBoard, RawCard, RawStack } from "../deck/schema.ts";
import {
  count,
  dropCollection,
  dropUnlisted,
  type CollectionItem,
  type CollectionSink,
  type PassCounts,
} from "./collections.ts";

const SOURCES = ["deck"] as const;
/** Sync tokens per board: the board's ETag when the last pass read it. */
const KIND = "deck";
/** The board list's ETag (a kind of its own, so it is never taken for a board). */
const LIST_KIND = "deck-boards";
const LIST_SCOPE = "boards";

const unquote = (etag: string) => etag.replace(/^(W\/)?"|"$/g, "");

/** What tells whether a board changed: its ETag, else its lastModified. */
export function boardVersion(b: RawBoard): string | undefined {
  if (typeof b.ETag === "string" && b.ETag !== "") return unquote(b.ETag);
  return typeof b.lastModified === "number" && b.lastModified > 0 ? `m${String(b.lastModified)}` : undefined;
}

/** The index item of one Deck card on a board's list (stack). */
export function deckItem(board: number, stack: RawStack, card: RawCard): CollectionItem {
  return {
    source: "deck",
    key: `${String(board)}/${String(stack.id)}/${String(card.id)}`,
    title: card.title,
    body: (card.description ?? "").trim(),
    container: String(board),
    etag:
      typeof card.ETag === "string" && card.ETag !== ""
        ? unquote(card.ETag)
        : typeof card.lastModified === "number"
          ? `m${String(card.lastModified)}`
          : null,
    modifiedAt:
      typeof card.lastModified === "number" && card.lastModified > 0
        ? new Date(card.lastModified * 1000)
        : null,
  };
}

/** Brings the user's Deck cards in the index up to date; see the file comment. */
export async function crawlDeck(
  nc: NextcloudClient,
  sink: CollectionSink,
  signal?: AbortSignal,
): Promise<PassCounts> {
  const counts: PassCounts = { requests: 0 };
  const cap = await deckCapability(nc);
  if (cap === undefined) {
    await dropUnlisted(sink, KIND, SOURCES, new Set(), counts);
    await sink.forgetSync(LIST_KIND, LIST_SCOPE);
    return counts;
  }
  // Deck's routes are #[CORS]: Nextcloud 30 and older (or a proxy dropping OCS-APIRequest) refuse
  // bearer tokens there. Then Deck is left as the last pass saw it, and the rest of the pass goes on.
  if (!(await nc.routeUsable("cors-app-route"))) {
    count(counts, "appsRefused");
    return counts;
  }
  const deck = new DeckClient(
    nc,
    signal ?? new AbortController().signal,
    cap.apiVersions.includes("1.1") ? "1.1" : "1.0",
  );
  const listEtag = await sink.syncToken(LIST_KIND, LIST_SCOPE);
  count(counts, "requests");
  let listed: Awaited<ReturnType<DeckClient["listBoards"]>>;
  try {
    listed = await deck.listBoards({ details: false, ...(listEtag === undefined ? {} : { etag: listEtag }) });
  } catch (err) {
    if (!(err instanceof NextcloudError && err.kind === "bearer_refused")) throw err;
    count(counts, "appsRefused");
    return counts;
  }

  if (listed.notModified) return counts;
  const boards = listed.value.filter((b) => (b.deletedAt ?? 0) === 0);
  await dropUnlisted(sink, KIND, SOURCES, new Set(boards.map((b) => String(b.id))), counts);
  for (const board of boards) {
    signal?.throwIfAborted();
    const container = String(board.id);
    const version = boardVersion(board);
    if (version !== undefined && (await sink.syncToken(KIND, container)) === version) continue;
    count(counts, "requests");
    let stacks: RawStack[];
    try {
      stacks = await deck.listStacks(board.id);
    } catch (err) {
      // Listed a moment ago, unreadable now (unshared, deleted meanwhile): its cards go.
      if (!(err instanceof NextcloudError && (err.kind === "not_found" || err.kind === "forbidden")))
        throw err;
      await dropCollection(sink, KIND, SOURCES, container, counts);
      continue;
    }
    count(counts, "collections");
    const known = await sink.itemsIn("deck", container);
    const items: CollectionItem[] = [];
    const seen = new Set<string>();
    for (const stack of stacks) {
      for (const card of stack.cards ?? []) {
        if ((card.deletedAt ?? 0) > 0 || card.archived === true) continue;
        const item = deckItem(board.id, stack, card);
        seen.add(item.key);
        if (item.etag !== null && known.get(item.key) === item.etag) continue;
        items.push(item);
      }
    }
    await sink.upsert(items);
    count(counts, "indexed", items.length);
    count(
      counts,
      "removed",
      await sink.remove(
        "deck",
        [...known.keys()].filter((k) => !seen.has(k)),
      ),
    );
    if (version !== undefined) await sink.setSyncToken(KIND, container, version);
  }
  if (listed.etag !== null) await sink.setSyncToken(LIST_KIND, LIST_SCOPE, listed.etag);
  return counts;
}
