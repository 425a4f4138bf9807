// The Deck app of the stand-in: its REST API (`/index.php/apps/deck/api/v1.0|v1.1/…`, every method
// `#[CORS]` in nextcloud/deck lib/Controller/*ApiController.php, so every route here is `cors`) and
// the OCS comments API (CommentsApiController, not CORS), in the shapes of Deck's docs/API.md:
// `{status, message}` errors (a missing id is 403 "Permission denied", as Deck's ExceptionMiddleware
// answers), ETags with If-None-Match → 304, If-Modified-Since on the board and stack lists. Seeding
// and inspection helpers for tests are on the returned object (`standin.app<DeckStandin>("deck")`).
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { sendOcs } from "../ocs.ts";
import { readBody, sendJson } from "../respond.ts";
import type { AppRequest, AppRoute, OcsRoute, StandinApp, StandinAppFactory } from "./types.ts";
import { badRequest, checkTitle, DeckError, DeckStore, denied, type Card, type Stack } from "./deck-store.ts";

/** The Deck app of a stand-in, with its helpers for tests. */
export interface DeckStandin extends StandinApp {
  readonly store: DeckStore;
  /** Turns board creation off (or on) for a user, as the admin's group limit does. */
  setCanCreateBoards(uid: string, can: boolean): void;
  /** Shares a board with a user (edit/share/manage off unless given). */
  share(boardId: number, uid: string, perms?: { edit?: boolean; share?: boolean; manage?: boolean }): void;
}

const API = String.raw`^\/apps\/deck\/api\/v(1\.[01])`;
const now = () => Math.floor(Date.now() / 1000);

type Json = Record<string, unknown>;
type Handler = (r: AppRequest, body: Json) => Promise<void> | void;

async function jsonBody(req: IncomingMessage): Promise<Json> {
  if (req.method === "GET" || req.method === "DELETE") return {};
  const ct = req.headers["content-type"] ?? "";
  if (!ct.includes("application/json")) return {};
  const text = (await readBody(req)).toString("utf8");
  if (text === "") return {};
  const parsed = JSON.parse(text) as unknown;
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : {};
}

function fail(res: ServerResponse, err: unknown): void {
  if (err instanceof DeckError) sendJson(res, err.status, { status: err.status, message: err.message });
  else throw err;
}

/** One path pattern, its handlers by method; every Deck REST route is #[CORS]. */
function route(path: string, methods: Partial<Record<string, Handler>>): AppRoute {
  return {
    pattern: new RegExp(`${API}${path}$`),
    cors: true,
    async handle(r) {
      const h = methods[r.req.method ?? "GET"];
      if (h === undefined) {
        sendJson(r.res, 405, { message: "Method not allowed" });
        return;
      }
      try {
        await h(r, await jsonBody(r.req));
      } catch (err) {
        fail(r.res, err);
      }
    },
  };
}

/** Answers with an ETag, or 304 when the client's If-None-Match still matches. */
function withEtag(r: AppRequest, etag: string, body: unknown): void {
  const quoted = `"${etag}"`;
  const inm = r.req.headers["if-none-match"];
  if (inm !== undefined && inm.split(",").some((t) => t.trim() === quoted || t.trim() === etag)) {
    r.res.writeHead(304, { ETag: quoted });
    r.res.end();
    return;
  }
  sendJson(r.res, 200, body, { ETag: quoted });
}

/** `If-Modified-Since` as Deck parses it; 400 "Invalid If-Modified-Since header provided." otherwise. */
function since(req: IncomingMessage): number {
  const h = req.headers["if-modified-since"];
  if (h === undefined || h === "") return 0;
  const t = Date.parse(h);
  if (Number.isNaN(t)) throw badRequest("Invalid If-Modified-Since header provided.");
  return Math.floor(t / 1000);
}

const num = (m: RegExpExecArray, i: number) => Number(m[i]);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const isoOrNull = (v: unknown): string | null => {
  if (typeof v !== "string" || v === "") return null;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw badRequest("Invalid date");
  return d.toISOString().replace(/\.\d{3}Z$/, "+00:00");
};

export const deckApp: StandinAppFactory = (services) => {
  const store = new DeckStore((uid) => services.user(uid));

  const boardRoutes: AppRoute[] = [
    route(String.raw`\/boards`, {
      GET: (r) => {
        const uid = r.user.uid;
        const from = since(r.req);
        const details = ["true", "1"].includes(r.url.searchParams.get("details") ?? "");
        const boards = [...store.boards.values()].filter(
          (b) => store.member(b, uid) && b.lastModified >= from,
        );
        const etag = md5(JSON.stringify(boards.map((b) => `${String(b.id)}-${store.boardEtag(b)}`)));
        withEtag(
          r,
          etag,
          boards.map((b) => store.boardJson(b, uid, details)),
        );
      },
      POST: (r, body) => {
        if (store.cannotCreate.has(r.user.uid))
          throw new DeckError(403, "Creating boards has been disabled for your account.");
        const title = checkTitle(body.title, 100);
        const color = str(body.color) ?? "";
        if (!/^[0-9a-fA-F]{6}$/.test(color))
          throw badRequest("color must be provided and must be a valid hex color");
        const board = store.createBoard(r.user.uid, title, color);
        sendJson(r.res, 200, store.boardJson(board, r.user.uid, true));
      },
    }),
    route(String.raw`\/boards\/(\d+)`, {
      GET: (r) => {
        const b = store.board(num(r.match, 2), r.user.uid, "READ");
        withEtag(r, store.boardEtag(b), store.boardJson(b, r.user.uid, true));
      },
      PUT: (r, body) => {
        const b = store.board(num(r.match, 2), r.user.uid, "MANAGE");
        b.title = checkTitle(body.title, 100);
        b.color = str(body.color) ?? b.color;
        b.archived = body.archived === true;
        store.touchBoard(b);
        sendJson(r.res, 200, store.boardJson(b, r.user.uid, true));
      },
      DELETE: (r) => {
        const b = store.board(num(r.match, 2), r.user.uid, "MANAGE");
        if (b.owner !== r.user.uid) throw denied();
        b.deletedAt = now();
        store.touchBoard(b);
        sendJson(r.res, 200, store.boardJson(b, r.user.uid, false));
      },
    }),
    route(String.raw`\/boards\/(\d+)\/undo_delete`, {
      POST: (r) => {
        const b = store.board(num(r.match, 2), r.user.uid, "MANAGE", true);
        b.deletedAt = 0;
        store.touchBoard(b);
        sendJson(r.res, 200, store.boardJson(b, r.user.uid, false));
      },
    }),
    route(String.raw`\/boards\/(\d+)\/acl`, {
      POST: (r, body) => {
        const b = store.board(num(r.match, 2), r.user.uid, "SHARE");
        const participant = str(body.participant);
        if (participant === undefined || Number(body.type ?? 0) !== 0)
          throw badRequest("participant must be provided");
        const acl = store.share(b.id, participant, {
          edit: body.permissionEdit === true,
          share: body.permissionShare === true,
          manage: body.permissionManage === true,
        });
        sendJson(r.res, 200, {
          participant: store.person(acl.uid),
          type: 0,
          boardId: b.id,
          ...acl,
          owner: false,
        });
      },
    }),
  ];

  const stackOf = (r: AppRequest, permission: "READ" | "EDIT" | "MANAGE"): Stack => {
    const s = store.stack(num(r.match, 3), r.user.uid, permission);
    if (s.boardId !== num(r.match, 2) || s.deletedAt > 0) throw denied();
    return s;
  };
  const stackRoutes: AppRoute[] = [
    route(String.raw`\/boards\/(\d+)\/stacks`, {
      GET: (r) => {
        const b = store.board(num(r.match, 2), r.user.uid, "READ");
        const from = since(r.req);
        const stacks = [...store.stacks.values()]
          .filter((s) => s.boardId === b.id && s.deletedAt === 0 && s.lastModified >= from)
          .sort((a, c) => a.order - c.order || a.id - c.id);
        sendJson(
          r.res,
          200,
          stacks.map((s) => store.stackJson(s, (c) => !c.archived)),
        );
      },
      POST: (r, body) => {
        const b = store.board(num(r.match, 2), r.user.uid, "MANAGE");
        const stack: Stack = {
          id: store.nextId(),
          boardId: b.id,
          title: checkTitle(body.title, 100),
          order: Number(body.order ?? 0),
          deletedAt: 0,
          lastModified: now(),
          version: 1,
        };
        store.stacks.set(stack.id, stack);
        store.touchStack(stack);
        sendJson(
          r.res,
          200,
          store.stackJson(stack, () => false),
        );
      },
    }),
    route(String.raw`\/boards\/(\d+)\/stacks\/archived`, {
      GET: (r) => {
        const b = store.board(num(r.match, 2), r.user.uid, "READ");
        const stacks = [...store.stacks.values()]
          .filter((s) => s.boardId === b.id && s.deletedAt === 0)
          .sort((a, c) => a.order - c.order || a.id - c.id);
        sendJson(
          r.res,
          200,
          stacks.map((s) => store.stackJson(s, (c) => c.archived)),
        );
      },
    }),
    route(String.raw`\/boards\/(\d+)\/stacks\/(\d+)`, {
      GET: (r) => {
        const s = stackOf(r, "READ");
        withEtag(
          r,
          store.stackEtag(s),
          store.stackJson(s, (c) => !c.archived),
        );
      },
      PUT: (r, body) => {
        const s = stackOf(r, "MANAGE");
        s.title = checkTitle(body.title, 100);
        if (body.order === undefined) throw badRequest("order must be provided");
        s.order = Number(body.order);
        store.touchStack(s);
        sendJson(
          r.res,
          200,
          store.stackJson(s, (c) => !c.archived),
        );
      },
      DELETE: (r) => {
        const s = stackOf(r, "MANAGE");
        s.deletedAt = now();
        store.touchStack(s);
        sendJson(
          r.res,
          200,
          store.stackJson(s, () => false),
        );
      },
    }),
  ];

  const cardOf = (r: AppRequest, permission: "READ" | "EDIT", allowDeleted = false): Card =>
    store.card(num(r.match, 4), r.user.uid, permission, allowDeleted);
  const editable = (card: Card) => {
    if (store.boardOfCard(card).archived)
      throw new DeckError(400, "Operation not allowed. This board is archived.");
  };
  const targetStack = (r: AppRequest, body: Json): Stack => {
    const id = body.stackId === undefined ? num(r.match, 3) : Number(body.stackId);
    return store.stack(id, r.user.uid, "EDIT");
  };
  const C = String.raw`\/boards\/(\d+)\/stacks\/(\d+)\/cards\/(\d+)`;
  const cardAction = (
    fn: (r: AppRequest, body: Json, card: Card) => unknown,
  ): Partial<Record<string, Handler>> => ({
    PUT: (r, body) => {
      const card = cardOf(r, "EDIT");
      editable(card);
      const out = fn(r, body, card);
      store.touchCard(card);
      sendJson(r.res, 200, out ?? store.cardJson(card));
    },
  });
  const labelOfCard = (card: Card, body: Json) => {
    const label = store.labels.get(Number(body.labelId));
    if (label === undefined || label.boardId !== store.boardOfCard(card).id) throw denied();
    return label;
  };
  const cardRoutes: AppRoute[] = [
    route(String.raw`\/boards\/(\d+)\/stacks\/(\d+)\/cards`, {
      POST: (r, body) => {
        const stack = store.stack(num(r.match, 3), r.user.uid, "EDIT");
        const card: Card = {
          id: store.nextId(),
          stackId: stack.id,
          title: checkTitle(body.title, 255),
          description: str(body.description) ?? "",
          type: str(body.type) ?? "plain",
          owner: r.user.uid,
          order: Number(body.order ?? 999),
          archived: false,
          done: null,
          duedate: isoOrNull(body.duedate),
          deletedAt: 0,
          createdAt: now(),
          lastModified: now(),
          version: 1,
          labels: [],
          assigned: [],
        };
        store.cards.set(card.id, card);
        store.touchCard(card);
        sendJson(r.res, 200, store.cardJson(card));
      },
    }),
    route(C, {
      GET: (r) => {
        const card = cardOf(r, "READ");
        withEtag(r, store.cardEtag(card), store.cardJson(card));
      },
      // Deck's update replaces every field: what the body leaves out (done, duedate) is cleared.
      PUT: (r, body) => {
        const card = cardOf(r, "EDIT", true);
        const stack = targetStack(r, body);
        editable(card);
        if (card.deletedAt > 0) throw new DeckError(403, "Operation not allowed. This card was deleted.");
        if (body.archived === true && card.archived)
          throw new DeckError(400, "Operation not allowed. This card is archived.");
        card.title = checkTitle(body.title, 255);
        if (typeof body.owner !== "string" || body.owner === "")
          throw badRequest("owner must be provided and must be not empty");
        if (typeof body.type !== "string" || body.type === "")
          throw badRequest("type must be provided and must be not empty");
        card.description = str(body.description) ?? "";
        card.order = Number(body.order ?? 0);
        card.duedate = isoOrNull(body.duedate);
        if (typeof body.archived === "boolean") card.archived = body.archived;
        card.done = "done" in body ? isoOrNull(body.done) : null;
        const moved = stack.id !== card.stackId;
        const fromBoard = store.boardOfCard(card).id;
        card.stackId = stack.id;
        if (moved && stack.boardId !== fromBoard) {
          // Labels follow by title to the new board; others are dropped (Deck clones them for managers).
          card.labels = card.labels.flatMap((id) => {
            const title = store.labels.get(id)?.title;
            const same = [...store.labels.values()].find(
              (l) => l.boardId === stack.boardId && l.title === title,
            );
            return same === undefined ? [] : [same.id];
          });
        }
        store.touchCard(card);
        sendJson(r.res, 200, store.cardJson(card));
      },
      DELETE: (r) => {
        const card = cardOf(r, "EDIT");
        card.deletedAt = now();
        store.touchCard(card);
        sendJson(r.res, 200, store.cardJson(card));
      },
    }),
    route(
      `${C}\\/archive`,
      cardAction((_r, _b, card) => {
        if (card.archived) throw new DeckError(400, "Operation not allowed. This card is archived.");
        card.archived = true;
      }),
    ),
    route(
      `${C}\\/unarchive`,
      cardAction((_r, _b, card) => {
        card.archived = false;
      }),
    ),
    route(`${C}\\/reorder`, {
      PUT: (r, body) => {
        const card = cardOf(r, "EDIT");
        editable(card);
        if (card.archived) throw new DeckError(400, "Operation not allowed. This card is archived.");
        const stack = targetStack(r, body);
        const order = Number(body.order ?? 0);
        card.stackId = stack.id;
        const others = [...store.cards.values()]
          .filter((c) => c.stackId === stack.id && c.id !== card.id && c.deletedAt === 0)
          .sort((a, b) => a.order - b.order || a.id - b.id);
        let i = 0;
        for (const c of others) {
          if (i === order) i++;
          c.order = i++;
        }
        card.order = order;
        store.touchCard(card);
        sendJson(
          r.res,
          200,
          [card, ...others].sort((a, b) => a.order - b.order).map((c) => store.cardJson(c)),
        );
      },
    }),
    route(
      `${C}\\/assignLabel`,
      cardAction((_r, body, card) => {
        const label = labelOfCard(card, body);
        if (!card.labels.includes(label.id)) card.labels.push(label.id);
      }),
    ),
    route(
      `${C}\\/removeLabel`,
      cardAction((_r, body, card) => {
        const label = labelOfCard(card, body);
        card.labels = card.labels.filter((id) => id !== label.id);
      }),
    ),
    route(
      `${C}\\/assignUser`,
      cardAction((_r, body, card) => {
        const uid = str(body.userId) ?? "";
        if (card.assigned.some((a) => a.uid === uid))
          throw badRequest("The user is already assigned to the card");
        if (!store.member(store.boardOfCard(card), uid))
          throw badRequest("The user is not part of the board");
        const a = { id: store.nextId(), uid };
        card.assigned.push(a);
        return { id: a.id, participant: store.person(uid), cardId: card.id, type: 0 };
      }),
    ),
    route(
      `${C}\\/unassignUser`,
      cardAction((_r, body, card) => {
        const uid = str(body.userId) ?? "";
        const a = card.assigned.find((x) => x.uid === uid);
        if (a === undefined) throw new DeckError(404, `No assignment for ${uid}found.`);
        card.assigned = card.assigned.filter((x) => x !== a);
        return { id: a.id, participant: store.person(uid), cardId: card.id, type: 0 };
      }),
    ),
  ];

  const labelRoutes: AppRoute[] = [
    route(String.raw`\/boards\/(\d+)\/labels`, {
      POST: (r, body) => {
        const b = store.board(num(r.match, 2), r.user.uid, "MANAGE");
        const title = checkTitle(body.title, 100);
        if ([...store.labels.values()].some((l) => l.boardId === b.id && l.title === title))
          throw badRequest("title must be unique");
        const id = store.nextId();
        const label = { id, boardId: b.id, title, color: str(body.color) ?? "31CC7C", lastModified: now() };
        store.labels.set(id, label);
        store.touchBoard(b);
        sendJson(r.res, 200, store.labelJson(label));
      },
    }),
    route(String.raw`\/boards\/(\d+)\/labels\/(\d+)`, {
      GET: (r) => {
        sendJson(r.res, 200, store.labelJson(store.label(num(r.match, 3), r.user.uid, "READ")));
      },
      PUT: (r, body) => {
        const label = store.label(num(r.match, 3), r.user.uid, "MANAGE");
        const title = checkTitle(body.title, 100);
        if (
          [...store.labels.values()].some(
            (l) => l.boardId === label.boardId && l.title === title && l.id !== label.id,
          )
        )
          throw badRequest("title must be unique");
        label.title = title;
        label.color = str(body.color) ?? label.color;
        label.lastModified = now();
        const b = store.boards.get(label.boardId);
        if (b) store.touchBoard(b);
        sendJson(r.res, 200, store.labelJson(label));
      },
      DELETE: (r) => {
        const label = store.label(num(r.match, 3), r.user.uid, "MANAGE");
        store.labels.delete(label.id);
        for (const c of store.cards.values()) c.labels = c.labels.filter((id) => id !== label.id);
        const b = store.boards.get(label.boardId);
        if (b) store.touchBoard(b);
        sendJson(r.res, 200, store.labelJson(label));
      },
    }),
  ];

  const attachmentRoutes: AppRoute[] = [
    route(`${C}\\/attachments`, {
      GET: (r) => {
        const card = cardOf(r, "READ");
        const list = [...store.attachments.values()].filter((a) => a.cardId === card.id && a.deletedAt === 0);
        sendJson(
          r.res,
          200,
          list.map((a) => store.attachmentJson(a)),
        );
      },
      // v1.1 with type "file": the upload lands in the uploader's files under /Deck and is shared with the board.
      POST: async (r) => {
        const card = cardOf(r, "EDIT");
        if (r.match[1] !== "1.1") throw badRequest("Use API v1.1 for attachments of type file");
        const upload = new Response(await readBody(r.req), {
          headers: { "content-type": r.req.headers["content-type"] ?? "" },
        });
        // A test fixture with small bodies: the platform's multipart parser is enough here.
        // eslint-disable-next-line @typescript-eslint/no-deprecated
        const form = await upload.formData();
        const file = form.get("file");
        if (form.get("type") !== "file" || !(file instanceof File)) throw badRequest("No file uploaded");
        const bytes = new Uint8Array(await file.arrayBuffer());
        const name = basename(file.name);
        const root = services.filesRoot(r.user.uid);
        await mkdir(join(root, "Deck"), { recursive: true });
        await writeFile(join(root, "Deck", name), bytes);
        const a = {
          id: store.nextId(),
          cardId: card.id,
          name,
          path: `/Deck/${name}`,
          size: bytes.byteLength,
          mimetype: file.type === "" ? "application/octet-stream" : file.type,
          createdBy: r.user.uid,
          createdAt: now(),
          deletedAt: 0,
        };
        store.attachments.set(a.id, a);
        store.touchCard(card);
        sendJson(r.res, 200, store.attachmentJson(a));
      },
    }),
    route(`${C}\\/attachments\\/file\\/(\\d+)`, {
      DELETE: (r) => {
        const card = cardOf(r, "EDIT");
        const a = store.attachments.get(num(r.match, 5));
        if (a === undefined || a.cardId !== card.id || a.deletedAt > 0) throw new DeckError(404, "");
        store.attachments.delete(a.id);
        store.touchCard(card);
        sendJson(r.res, 200, store.attachmentJson(a));
      },
    }),
  ];

  // Comments: OCS (CommentsApiController, an OCSController without #[CORS]); errors are OCS failures.
  const ocsComments =
    (fn: (r: Parameters<OcsRoute["handle"]>[0], body: Json) => unknown): OcsRoute["handle"] =>
    async (r) => {
      try {
        sendOcs(r.req, r.res, r.url, r.version, 200, await fn(r, await jsonBody(r.req)));
      } catch (err) {
        if (!(err instanceof DeckError)) throw err;
        sendOcs(r.req, r.res, r.url, r.version, err.status, [], err.message);
      }
    };
  const comment = (cardId: number, commentId: number, uid: string) => {
    const m = store.comments.get(commentId);
    if (m === undefined || m.cardId !== cardId) throw new DeckError(404, "No comment found.");
    if (m.actor !== uid) throw new DeckError(403, "Only authors are allowed to edit their comment.");
    return m;
  };
  const ocsRoutes: OcsRoute[] = [
    {
      pattern: /^apps\/deck\/api\/v1\.[01]\/cards\/(\d+)\/comments$/,
      handle: async (r) => {
        const cardId = Number(r.match[1]);
        if (r.req.method === "GET") {
          await ocsComments(() => {
            store.card(cardId, r.user.uid, "READ");
            const limit = Number(r.url.searchParams.get("limit") ?? 20);
            const offset = Number(r.url.searchParams.get("offset") ?? 0);
            return [...store.comments.values()]
              .filter((m) => m.cardId === cardId)
              .sort((a, b) => b.id - a.id)
              .slice(offset, offset + limit)
              .map((m) => store.commentJson(m));
          })(r);
          return;
        }
        await ocsComments((_r, body) => {
          store.card(cardId, r.user.uid, "READ");
          const message = str(body.message) ?? "";
          if (message === "") throw badRequest("Invalid input values");
          if (message.length > 1000) throw badRequest("The comment is too long. Maximum length: 1000");
          const parentId = Number(body.parentId ?? 0);
          if (parentId !== 0 && store.comments.get(parentId)?.cardId !== cardId)
            throw badRequest(
              "Invalid parent id: The parent comment was not found or belongs to a different card",
            );
          const m = {
            id: store.nextId(),
            cardId,
            actor: r.user.uid,
            message,
            created: new Date().toISOString().replace(/\.\d{3}Z$/, "+00:00"),
            parentId,
          };
          store.comments.set(m.id, m);
          return store.commentJson(m);
        })(r);
      },
    },
    {
      pattern: /^apps\/deck\/api\/v1\.[01]\/cards\/(\d+)\/comments\/(\d+)$/,
      handle: async (r) => {
        const cardId = Number(r.match[1]);
        const commentId = Number(r.match[2]);
        await ocsComments((_r, body) => {
          store.card(cardId, r.user.uid, "READ");
          const m = comment(cardId, commentId, r.user.uid);
          if (r.req.method === "DELETE") {
            store.comments.delete(m.id);
            return [];
          }
          const message = str(body.message) ?? "";
          if (message === "") throw badRequest("Invalid input values");
          m.message = message;
          return store.commentJson(m);
        })(r);
      },
    },
  ];

  return {
    id: "deck",
    store,
    capabilities: (uid) => ({
      deck: {
        version: "1.15.2",
        canCreateBoards: uid === undefined || !store.cannotCreate.has(uid),
        apiVersions: ["1.0", "1.1"],
      },
    }),
    // The more specific paths first: "/stacks/archived" before "/stacks/(\d+)".
    appRoutes: [...boardRoutes, ...stackRoutes, ...labelRoutes, ...cardRoutes, ...attachmentRoutes],
    ocsRoutes,
    setCanCreateBoards(uid, can) {
      if (can) store.cannotCreate.delete(uid);
      else store.cannotCreate.add(uid);
    },
    share(boardId, uid, perms) {
      store.share(boardId, uid, perms);
    },
  } satisfies DeckStandin;
};

function md5(s: string): string {
  return createHash("md5").update(s).digest("hex");
}
