// The stand-in's Deck comments: Deck's OCS API (CommentsApiController, an OCSController without
// #[CORS]), newest first, `replyTo` for answers, only authors edit or delete.
import { sendOcs } from "../ocs.ts";
import { jsonBody, str, type Json } from "./deck-http.ts";
import { badRequest, DeckError, type DeckStore } from "./deck-store.ts";
import type { OcsRoute } from "./types.ts";

/** The OCS comment routes over `store`. */
export function commentRoutes(store: DeckStore): OcsRoute[] {
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
  return [
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
}
