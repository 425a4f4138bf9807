// The content index as the MCP endpoint hands it to tools: bound to the verified token's user, so a
// tool can read and prune that user's index and no other.
import type { Kysely } from "kysely";
import type { SearchIndexContext } from "../mcp/index.ts";
import { findUser } from "../store/account.ts";
import { SearchIndex, type Database } from "../store/index.ts";

/** Makes the per-request {@link SearchIndexContext} of a verified token's user. */
export function userSearchIndex(
  db: Kysely<Database>,
  language: string,
): (issuer: string, subject: string) => SearchIndexContext {
  const index = new SearchIndex(db, language);
  return (issuer, subject) => {
    let user: Promise<string | undefined> | undefined;
    const userId = () => (user ??= findUser(db, issuer, subject).then((u) => u?.id));
    return {
      async ready() {
        const id = await userId();
        return id !== undefined && (await index.isReady(id));
      },
      async search(text, o) {
        const id = await userId();
        return id === undefined ? [] : index.search(id, text, o);
      },
      async drop(hit) {
        const id = await userId();
        if (id === undefined) return;
        await index.remove(id, hit.source, [hit.key]);
        await index.requeue(id, hit);
      },
      async status() {
        const id = await userId();
        return id === undefined ? undefined : index.status(id);
      },
    };
  };
}
