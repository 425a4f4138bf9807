// The Deck app of the stand-in: its REST API (`/index.php/apps/deck/api/v1.0|v1.1/…`, every method
// `#[CORS]` in nextcloud/deck lib/Controller/*ApiController.php, so every route here is `cors`) and
// the OCS comments API (CommentsApiController, not CORS), in the shapes of Deck's docs/API.md:
// `{status, message}` errors (a missing id is 403 "Permission denied", as Deck's ExceptionMiddleware
// answers), ETags with If-None-Match → 304, If-Modified-Since on the board and stack lists. Seeding
// and inspection helpers for tests are on the returned object (`standin.app<DeckStandin>("deck")`).
import { sendJson } from "../respond.ts";
import { cardRoutes } from "./deck-cards.ts";
import { commentRoutes } from "./deck-comments.ts";
import { md5, now, num, route, since, str, withEtag } from "./deck-http.ts";
import { badRequest, checkTitle, DeckError, DeckStore, denied, type Stack } from "./deck-store.ts";
import type { AppRequest, AppRoute, StandinApp, StandinAppFactory } from "./types.ts";

/** The Deck app of a stand-in, with its helpers for tests. */
export interface DeckStandin extends StandinApp {
  readonly store: DeckStore;
  /** Turns board creation off (or on) for a user, as the admin's group limit does. */
  setCanCreateBoards(uid: string, can: boolean): void;
  /** Shares a board with a user (edit/share/manage off unless given). */
  share(boardId: number, uid: string, perms?: { edit?: boolean; share?: boolean; manage?: boolean }): void;
}

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
    appRoutes: [...boardRoutes, ...stackRoutes, ...labelRoutes, ...cardRoutes(store, services)],
    ocsRoutes: commentRoutes(store),
    setCanCreateBoards(uid, can) {
      if (can) store.cannotCreate.delete(uid);
      else store.cannotCreate.add(uid);
    },
    share(boardId, uid, perms) {
      store.share(boardId, uid, perms);
    },
  } satisfies DeckStandin;
};
