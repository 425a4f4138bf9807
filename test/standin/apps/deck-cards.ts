// The stand-in's Deck card routes (create, read, the full-replacement update, move, reorder, archive,
// labels, assignments) and attachments (API v1.1 `file` uploads into the uploader's /Deck folder).
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { readBody, sendJson } from "../respond.ts";
import { isoOrNull, now, num, route, str, withEtag, type Handler, type Json } from "./deck-http.ts";
import {
  badRequest,
  checkTitle,
  DeckError,
  denied,
  type Card,
  type DeckStore,
  type Stack,
} from "./deck-store.ts";
import type { AppRequest, AppRoute, StandinServices } from "./types.ts";

/** The card and attachment routes over `store`. */
export function cardRoutes(store: DeckStore, services: StandinServices): AppRoute[] {
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
  const routes: AppRoute[] = [
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

  const attachments: AppRoute[] = [
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
  return [...routes, ...attachments];
}
