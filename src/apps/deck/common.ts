// What every Deck tool shares: the client for the request (API v1.1 where Deck offers it), the id
// arguments, and the ETag check Deck itself does not make on updates.
import { z } from "zod";
import { NextcloudError } from "../../nextcloud/index.ts";
import { nextcloudOf, type ToolContext } from "../../mcp/index.ts";
import { DeckClient, deckCapability, type DeckCapability } from "./client.ts";

/** The user's Deck client and capability entry; an explained error when Deck is off for them. */
export async function deckOf(ctx: ToolContext): Promise<{ deck: DeckClient; cap: DeckCapability }> {
  const nc = nextcloudOf(ctx);
  const cap = await deckCapability(nc);
  if (cap === undefined) {
    throw new NextcloudError(
      "not_found",
      "The Deck app is not enabled for you in Nextcloud; ask the administrator to install or enable it.",
    );
  }
  const version = cap.apiVersions.includes("1.1") ? "1.1" : "1.0";
  return { deck: new DeckClient(nc, ctx.signal, version), cap };
}

export const id = (what: string) => z.number().int().positive().describe(what);
export const boardArg = id("The board id (deck_list_boards).");
export const stackArg = id("The list (stack) id the card is in (deck_get_board).");
export const cardArg = id("The card id.");
export const etagArg = z
  .string()
  .max(200)
  .optional()
  .describe("The etag you read; if it changed meanwhile nothing is changed and you get the current state.");

/**
 * Deck overwrites on update without checking any version: when the model passes the etag it read,
 * the gateway compares it with the current one first and refuses a stale update.
 */
export function refuseStale(
  what: string,
  given: string | undefined,
  current: string | null | undefined,
): void {
  if (given === undefined || current === undefined || current === null) return;
  if (given.replace(/^"|"$/g, "") === current) return;
  throw new NextcloudError(
    "precondition_failed",
    `${what} was changed in Deck since you read it (etag ${given}, now ${current}); nothing was changed. Read it again and retry with the new etag.`,
  );
}
