// The Deck REST API (`/index.php/apps/deck/api/v1.x/…`, every route #[CORS]) and its OCS comments
// API, over the shared transport. Deck answers errors as `{status, message}`; its own message is kept
// in the tool error, since it says what to fix ("The user is not part of the board").
import { NextcloudError, send, type NextcloudClient, type NextcloudResponse } from "../../nextcloud/index.ts";
import type { RawAttachment, RawBoard, RawCard, RawComment, RawLabel, RawStack } from "./schema.ts";

/** Deck's capability entry (lib/Capabilities.php). */
export interface DeckCapability {
  version: string;
  canCreateBoards: boolean;
  apiVersions: string[];
}

/** The `deck` capability of the user, or undefined when Deck is not enabled for them. */
export async function deckCapability(nc: NextcloudClient): Promise<DeckCapability | undefined> {
  const raw = (await nc.capabilities()).raw.deck as Partial<DeckCapability> | undefined;
  if (raw === undefined || typeof raw !== "object") return undefined;
  return {
    version: typeof raw.version === "string" ? raw.version : "",
    canCreateBoards: raw.canCreateBoards !== false,
    apiVersions: Array.isArray(raw.apiVersions)
      ? raw.apiVersions.filter((v) => typeof v === "string")
      : ["1.0"],
  };
}

/** A read that may be answered 304 Not Modified. */
export type Conditional<T> =
  { notModified: true; etag: string } | { notModified: false; etag: string | null; value: T };

interface Call {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  what: string;
  body?: unknown;
  headers?: Record<string, string>;
  raw?: { body: Uint8Array; contentType: string };
  accept?: number[];
}

const unquote = (etag: string | null): string | null =>
  etag === null ? null : etag.replace(/^(W\/)?"|"$/g, "");

/** One user's Deck. */
export class DeckClient {
  readonly #nc: NextcloudClient;
  readonly #signal: AbortSignal;
  readonly #base: string;

  constructor(nc: NextcloudClient, signal: AbortSignal, apiVersion: "1.0" | "1.1" = "1.1") {
    this.#nc = nc;
    this.#signal = signal;
    this.#base = `/index.php/apps/deck/api/v${apiVersion}`;
  }

  async #send(c: Call): Promise<NextcloudResponse> {
    try {
      return await send(this.#nc.options, {
        method: c.method,
        path: `${this.#base}${c.path}`,
        what: c.what,
        headers: {
          Accept: "application/json",
          ...(c.body === undefined ? {} : { "Content-Type": "application/json" }),
          ...(c.raw === undefined ? {} : { "Content-Type": c.raw.contentType }),
          ...c.headers,
        },
        ...(c.body === undefined ? {} : { body: JSON.stringify(c.body) }),
        ...(c.raw === undefined ? {} : { body: c.raw.body }),
        ...(c.accept === undefined ? {} : { accept: c.accept }),
        signal: this.#signal,
        // Every route of the REST API is #[CORS]: not sent while this instance's refusal is fresh.
        routeClass: "cors-app-route",
      });
    } catch (err) {
      throw deckError(err, c.what);
    }
  }

  async #json<T>(c: Call): Promise<T> {
    const res = await this.#send(c);
    try {
      return res.json() as T;
    } catch (err) {
      throw new NextcloudError("bad_response", `Deck answered ${c.what} with something that is not JSON.`, {
        cause: err,
      });
    }
  }

  async #conditional<T>(c: Call, etag: string | undefined): Promise<Conditional<T>> {
    const res = await this.#send({
      ...c,
      headers: { ...c.headers, ...(etag === undefined ? {} : { "If-None-Match": `"${etag}"` }) },
      accept: [304],
    });
    const got = unquote(res.headers.get("etag"));
    if (res.status === 304) return { notModified: true, etag: got ?? etag ?? "" };
    return { notModified: false, etag: got, value: res.json() as T };
  }

  // Boards
  listBoards(o: { details: boolean; since?: Date; etag?: string }): Promise<Conditional<RawBoard[]>> {
    return this.#conditional(
      {
        method: "GET",
        path: `/boards${o.details ? "?details=true" : ""}`,
        what: "your Deck boards",
        ...(o.since === undefined ? {} : { headers: { "If-Modified-Since": o.since.toUTCString() } }),
      },
      o.etag,
    );
  }
  getBoard(id: number, etag?: string): Promise<Conditional<RawBoard>> {
    return this.#conditional({ method: "GET", path: `/boards/${String(id)}`, what: boardWhat(id) }, etag);
  }
  createBoard(title: string, color: string): Promise<RawBoard> {
    return this.#json({ method: "POST", path: "/boards", what: "a new Deck board", body: { title, color } });
  }
  updateBoard(id: number, b: { title: string; color: string; archived: boolean }): Promise<RawBoard> {
    return this.#json({ method: "PUT", path: `/boards/${String(id)}`, what: boardWhat(id), body: b });
  }
  deleteBoard(id: number): Promise<RawBoard> {
    return this.#json({ method: "DELETE", path: `/boards/${String(id)}`, what: boardWhat(id) });
  }
  undoDeleteBoard(id: number): Promise<RawBoard> {
    return this.#json({ method: "POST", path: `/boards/${String(id)}/undo_delete`, what: boardWhat(id) });
  }

  // Stacks
  listStacks(board: number, archived = false): Promise<RawStack[]> {
    return this.#json({
      method: "GET",
      path: `/boards/${String(board)}/stacks${archived ? "/archived" : ""}`,
      what: `the lists of ${boardWhat(board)}`,
    });
  }
  getStack(board: number, stack: number): Promise<RawStack> {
    return this.#json({ method: "GET", path: stackPath(board, stack), what: stackWhat(stack) });
  }
  createStack(board: number, title: string, order: number): Promise<RawStack> {
    return this.#json({
      method: "POST",
      path: `/boards/${String(board)}/stacks`,
      what: `a new list on ${boardWhat(board)}`,
      body: { title, order },
    });
  }
  updateStack(board: number, stack: number, s: { title: string; order: number }): Promise<RawStack> {
    return this.#json({ method: "PUT", path: stackPath(board, stack), what: stackWhat(stack), body: s });
  }
  deleteStack(board: number, stack: number): Promise<RawStack> {
    return this.#json({ method: "DELETE", path: stackPath(board, stack), what: stackWhat(stack) });
  }

  // Cards
  getCard(board: number, stack: number, card: number): Promise<Conditional<RawCard>> {
    return this.#conditional(
      { method: "GET", path: cardPath(board, stack, card), what: cardWhat(card) },
      undefined,
    );
  }
  createCard(
    board: number,
    stack: number,
    c: { title: string; description: string; duedate: string | null; order: number },
  ): Promise<RawCard> {
    return this.#json({
      method: "POST",
      path: `${stackPath(board, stack)}/cards`,
      what: `a new card in ${stackWhat(stack)}`,
      body: { ...c, type: "plain" },
    });
  }
  /** Deck's update replaces every field, so `c` must carry the card's current values for what stays. */
  updateCard(board: number, stack: number, card: number, c: Record<string, unknown>): Promise<RawCard> {
    // The target stack goes in the path and the body: Deck reads `stackId` from either.
    return this.#json({
      method: "PUT",
      path: cardPath(board, stack, card),
      what: cardWhat(card),
      body: { ...c, stackId: stack },
    });
  }
  cardAction(
    board: number,
    stack: number,
    card: number,
    action:
      "archive" | "unarchive" | "assignLabel" | "removeLabel" | "assignUser" | "unassignUser" | "reorder",
    body: Record<string, unknown> = {},
  ): Promise<unknown> {
    return this.#json({
      method: "PUT",
      path: `${cardPath(board, stack, card)}/${action}`,
      what: cardWhat(card),
      body,
    });
  }
  deleteCard(board: number, stack: number, card: number): Promise<RawCard> {
    return this.#json({ method: "DELETE", path: cardPath(board, stack, card), what: cardWhat(card) });
  }

  // Labels
  getLabel(board: number, label: number): Promise<RawLabel> {
    return this.#json({ method: "GET", path: labelPath(board, label), what: labelWhat(label) });
  }
  createLabel(board: number, title: string, color: string): Promise<RawLabel> {
    return this.#json({
      method: "POST",
      path: `/boards/${String(board)}/labels`,
      what: `a new label on ${boardWhat(board)}`,
      body: { title, color },
    });
  }
  updateLabel(board: number, label: number, l: { title: string; color: string }): Promise<RawLabel> {
    return this.#json({ method: "PUT", path: labelPath(board, label), what: labelWhat(label), body: l });
  }
  deleteLabel(board: number, label: number): Promise<RawLabel> {
    return this.#json({ method: "DELETE", path: labelPath(board, label), what: labelWhat(label) });
  }

  // Attachments (API v1.1: type "file", stored in the uploader's files and shared with the board)
  listAttachments(board: number, stack: number, card: number): Promise<RawAttachment[]> {
    return this.#json({
      method: "GET",
      path: `${cardPath(board, stack, card)}/attachments`,
      what: `the attachments of ${cardWhat(card)}`,
    });
  }
  async attachFile(
    board: number,
    stack: number,
    card: number,
    file: { name: string; content: Uint8Array; contentType: string },
  ): Promise<RawAttachment> {
    const form = new FormData();
    form.set("type", "file");
    form.set("file", new Blob([file.content], { type: file.contentType }), file.name);
    const encoded = new Request("http://multipart.invalid/", { method: "POST", body: form });
    return this.#json({
      method: "POST",
      path: `${cardPath(board, stack, card)}/attachments`,
      what: `an attachment to ${cardWhat(card)}`,
      raw: {
        body: new Uint8Array(await encoded.arrayBuffer()),
        contentType: encoded.headers.get("content-type") ?? "multipart/form-data",
      },
    });
  }
  deleteAttachment(
    board: number,
    stack: number,
    card: number,
    attachment: number,
    type: string,
  ): Promise<unknown> {
    return this.#json({
      method: "DELETE",
      path: `${cardPath(board, stack, card)}/attachments/${encodeURIComponent(type)}/${String(attachment)}`,
      what: `attachment ${String(attachment)} of ${cardWhat(card)}`,
    });
  }

  // Comments (OCS, not #[CORS])
  async listComments(card: number, limit: number, offset: number): Promise<RawComment[]> {
    return (await this.#ocs("GET", `cards/${String(card)}/comments`, `the comments of ${cardWhat(card)}`, {
      params: { limit, offset },
    })) as RawComment[];
  }
  async createComment(card: number, message: string, parentId: number | undefined): Promise<RawComment> {
    return (await this.#ocs("POST", `cards/${String(card)}/comments`, `a comment on ${cardWhat(card)}`, {
      body: { message, ...(parentId === undefined ? {} : { parentId }) },
    })) as RawComment;
  }
  async updateComment(card: number, comment: number, message: string): Promise<RawComment> {
    return (await this.#ocs(
      "PUT",
      `cards/${String(card)}/comments/${String(comment)}`,
      commentWhat(comment),
      {
        body: { message },
      },
    )) as RawComment;
  }
  async deleteComment(card: number, comment: number): Promise<void> {
    await this.#ocs("DELETE", `cards/${String(card)}/comments/${String(comment)}`, commentWhat(comment), {});
  }

  async #ocs(
    method: "GET" | "POST" | "PUT" | "DELETE",
    route: string,
    what: string,
    o: { params?: Record<string, number>; body?: unknown },
  ): Promise<unknown> {
    try {
      return await this.#nc.ocs(method, `apps/deck/api/v1.0/${route}`, { ...o, what, signal: this.#signal });
    } catch (err) {
      throw deckError(err, what);
    }
  }
}

const boardWhat = (id: number) => `Deck board ${String(id)}`;
const stackWhat = (id: number) => `Deck list ${String(id)}`;
const cardWhat = (id: number) => `Deck card ${String(id)}`;
const labelWhat = (id: number) => `Deck label ${String(id)}`;
const commentWhat = (id: number) => `comment ${String(id)}`;
const stackPath = (b: number, s: number) => `/boards/${String(b)}/stacks/${String(s)}`;
const cardPath = (b: number, s: number, c: number) => `${stackPath(b, s)}/cards/${String(c)}`;
const labelPath = (b: number, l: number) => `/boards/${String(b)}/labels/${String(l)}`;

/**
 * Deck's own words in the error the model sees. Deck answers 403 "Permission denied" both for a
 * missing id and for a board not shared (so nothing leaks); the hint covers both.
 */
export function deckError(err: unknown, what: string): unknown {
  if (!(err instanceof NextcloudError)) return err;
  const said = /^Nextcloud said: (.*)$/s.exec(err.detail ?? "")?.[1];
  const quote = said === undefined || said === "" ? "" : ` Deck said: "${said}".`;
  const again = (kind: NextcloudError["kind"], description: string) =>
    new NextcloudError(kind, description, {
      ...(err.httpStatus === undefined ? {} : { httpStatus: err.httpStatus }),
      ...(err.detail === undefined ? {} : { detail: err.detail }),
      cause: err,
    });
  switch (err.httpStatus) {
    case 400:
      return again("conflict", `Deck refused ${what}.${quote} Change the arguments and retry.`);
    case 403:
      if (err.kind !== "forbidden") return err;
      return again(
        "forbidden",
        `Deck refused ${what}.${quote} It does not exist, or is not shared with you, or your share lacks the permission (edit or manage) this needs. deck_list_boards shows your boards and permissions.`,
      );
    case 404:
      return again("not_found", `${what.charAt(0).toUpperCase()}${what.slice(1)} was not found.${quote}`);
    default:
      return err;
  }
}
