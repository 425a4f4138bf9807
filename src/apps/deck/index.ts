// Deck (boards, lists, cards, labels, comments, attachments): its REST API v1.x, #[CORS] on every
// route, and its OCS comments API. This folder owns the Deck client, its shapes and the deck tools.
import { defineGroup } from "../../mcp/index.ts";
import { deckGetBoard, deckGetCard, deckListBoards, deckListComments } from "./read.ts";
import { deckBoard, deckLabel, deckStack } from "./write-board.ts";
import { deckAssign, deckCard } from "./write-card.ts";
import { deckAttachment, deckComment } from "./write-extra.ts";

/** The Deck tools: there when the user's capabilities carry `deck`. */
export const deckGroup = defineGroup({
  id: "deck",
  title: "Deck",
  description:
    "Kanban boards of Nextcloud Deck: boards, lists, cards, labels, assignees, comments and attachments.",
  available: async (nextcloud) => (await nextcloud.capabilities()).raw.deck !== undefined,
  tools: [
    deckListBoards,
    deckGetBoard,
    deckGetCard,
    deckListComments,
    deckBoard,
    deckStack,
    deckCard,
    deckAssign,
    deckLabel,
    deckComment,
    deckAttachment,
  ],
});
