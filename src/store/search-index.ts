// The content index (sql/0004_search_index.sql): per-user items with a full-text document, the sync
// state of each collection, and per-user index state with the lease of the replica indexing it.
// Every query takes the user id: a row is never read for another user.
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.ts";

/** Where an item comes from; the search tool's `open` hint depends on it. */
export type IndexSource = "files" | "notes" | "calendar" | "tasks" | "contacts" | "deck";

/** The sources kept per collection (a calendar, an address book, a Deck board) rather than per folder. */
export type CollectionSource = "calendar" | "tasks" | "contacts" | "deck";

/** One item as the indexer read it. */
export interface IndexedItem {
  source: IndexSource;
  /** What the app's tools take: a path, a note id, an object id. */
  key: string;
  title: string;
  body: string;
  /** The folder, category, calendar or address book it is in ("" for none). */
  container: string;
  etag: string | null;
  modifiedAt: Date | null;
}

/** A hit of the index, best first. */
export interface IndexHit {
  source: IndexSource;
  key: string;
  title: string;
  container: string;
  etag: string | null;
  modifiedAt: Date | null;
  /** A short passage with the matched words between « and ». */
  snippet: string;
  rank: number;
}

/** What the account page and offline_access_status show. */
export interface IndexStatus {
  items: number;
  paused: boolean;
  readyAt: Date | null;
  lastRunAt: Date | null;
  lastError: string | null;
}

/** A query's terms: words, "quoted phrases", each maybe -excluded. */
const terms = (text: string) => text.normalize("NFKC").match(/-?"[^"]*"?|[^\s"]+/gu) ?? [];

/** The letters and digits of a term, its other characters as spaces. */
const bare = (term: string) => term.replace(/[^\p{L}\p{N}]+/gu, " ").trim();

/**
 * Words of a query as a prefix query (`deci:* & gate:*`), for when the words as typed find nothing;
 * -excluded words stay excluded (`!cake:*`).
 */
export function prefixQuery(text: string): string | undefined {
  const parts: string[] = [];
  let positive = false;
  for (const term of terms(text.toLowerCase())) {
    const words = bare(term)
      .split(" ")
      .filter((w) => w !== "")
      .slice(0, 16 - parts.length);
    if (words.length === 0) continue;
    if (term.startsWith("-")) {
      parts.push(`!(${words.map((w) => `${w}:*`).join(" <-> ")})`);
    } else {
      parts.push(...words.map((w) => `${w}:*`));
      positive = true;
    }
  }
  return positive ? parts.join(" & ") : undefined;
}

/**
 * How alike a name must be to the words of a query to be found by name (pg_trgm word similarity,
 * 0..1): 0.5 finds "quartrly" in "Quarterly report.md" (0.58) and not unrelated names.
 */
export const NAME_SIMILARITY = 0.5;

/**
 * The words of a query that a name may resemble (`like`), with web-search syntax taken out (quotes,
 * `or`), and its -excluded words (`exclude`, in web-search syntax), which no hit may contain, by
 * name or otherwise; undefined when fewer than three letters remain (too few trigrams to mean
 * anything).
 */
export function nameQuery(text: string): { like: string; exclude: string | undefined } | undefined {
  const all = terms(text);
  const like = all
    .filter((t) => !t.startsWith("-") && t.toLowerCase() !== "or")
    .map(bare)
    .filter((w) => w !== "")
    .slice(0, 16)
    .join(" ");
  const exclude = all
    .filter((t) => t.startsWith("-") && bare(t) !== "")
    .map((t) => (t.startsWith('-"') ? `"${bare(t)}"` : bare(t)));
  if (like.replace(/\s/g, "").length < 3) return undefined;
  return { like, exclude: exclude.length === 0 ? undefined : exclude.join(" or ") };
}

/** The index of one user's files and notes as one indexing pass writes it (the crawl's IndexSink). */
export interface UserIndexSink {
  itemsIn(source: "files" | "notes", container: string): Promise<Map<string, string | null>>;
  upsert(items: readonly IndexedItem[]): Promise<void>;
  remove(source: "files" | "notes", keys: readonly string[]): Promise<number>;
  removeContainer(source: "files" | "notes", container: string): Promise<number>;
  syncToken(scope: string): Promise<string | undefined>;
  setSyncToken(scope: string, token: string): Promise<void>;
  forgetSync(scope: string): Promise<void>;
  foldersBelow(folder: string): Promise<string[]>;
  /** The same user's calendars, tasks, contacts and Deck cards. */
  collections: CollectionIndexSink;
}

/**
 * The index of one user's collections (calendars, address books, Deck boards) as a pass writes it:
 * items by container, and a sync token per collection under its own `kind` in search_sync.
 */
export interface CollectionIndexSink {
  itemsIn(source: CollectionSource, container: string): Promise<Map<string, string | null>>;
  containers(source: CollectionSource): Promise<string[]>;
  upsert(items: readonly IndexedItem[]): Promise<void>;
  remove(source: CollectionSource, keys: readonly string[]): Promise<number>;
  removeContainer(source: CollectionSource, container: string): Promise<number>;
  syncToken(kind: string, scope: string): Promise<string | undefined>;
  setSyncToken(kind: string, scope: string, token: string): Promise<void>;
  forgetSync(kind: string, scope: string): Promise<void>;
  /** The scopes with a sync token of one kind (the collections the last pass saw). */
  syncScopes(kind: string): Promise<string[]>;
}

/**
 * The seam for semantic ranking, not built (docs/adr/0019-document-text-extraction-and-name-similarity.md):
 * an operator-configured embedding model, e.g. an OpenAI-compatible `/v1/embeddings` endpoint. With
 * one, `upsert` would store `embed([title + body])` in a pgvector column (where the extension exists)
 * and `search` would re-rank its candidates (see there); without one, nothing changes.
 */
export interface EmbeddingProvider {
  /** The model's name, kept with each vector: a new model means embedding again. */
  readonly model: string;
  /** The length of every vector (pgvector's `vector(n)`). */
  readonly dimensions: number;
  /** One vector per text, in order. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** Upserts at most this many items per statement. */
const BATCH = 200;

export class SearchIndex {
  readonly #db: Kysely<Database>;
  readonly #language: string;

  /** `language`: a PostgreSQL text search configuration (`simple`, `english`, `german`, …). */
  constructor(db: Kysely<Database>, language = "simple") {
    this.#db = db;
    this.#language = language;
  }

  /**
   * The index of one user, bound to them: files and notes (folder sync tokens under source "files"),
   * and `collections` for calendars, tasks, contacts and Deck cards.
   */
  sinkFor(userId: string): UserIndexSink {
    return {
      itemsIn: (source, container) => this.itemsIn(userId, source, container),
      upsert: (items) => this.upsert(userId, items),
      remove: (source, keys) => this.remove(userId, source, keys),
      removeContainer: (source, container) => this.removeContainer(userId, source, container),
      syncToken: (scope) => this.syncToken(userId, "files", scope),
      setSyncToken: (scope, token) => this.setSyncToken(userId, "files", scope, token),
      forgetSync: (scope) => this.forgetSync(userId, "files", scope),
      foldersBelow: (folder) => this.foldersBelow(userId, folder),
      collections: {
        itemsIn: (source, container) => this.itemsIn(userId, source, container),
        containers: (source) => this.containers(userId, source),
        upsert: (items) => this.upsert(userId, items),
        remove: (source, keys) => this.remove(userId, source, keys),
        removeContainer: (source, container) => this.removeContainer(userId, source, container),
        syncToken: (kind, scope) => this.syncToken(userId, kind, scope),
        setSyncToken: (kind, scope, token) => this.setSyncToken(userId, kind, scope, token),
        forgetSync: (kind, scope) => this.forgetSync(userId, kind, scope),
        syncScopes: (kind) => this.syncScopes(userId, kind),
      },
    };
  }

  /** Adds or replaces items of one user. */
  async upsert(userId: string, items: readonly IndexedItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH) {
      const rows = items.slice(i, i + BATCH).map((it) => ({
        user_id: userId,
        source: it.source,
        item_key: it.key,
        title: it.title,
        // NUL cannot be stored in text; the rest of the body is kept.
        body: it.body.replace(/\0/g, ""),
        container: it.container,
        etag: it.etag,
        modified_at: it.modifiedAt,
        indexed_at: new Date(),
        language: this.#language,
      }));
      await this.#db
        .insertInto("search_items")
        .values(rows)
        .onConflict((oc) =>
          oc.columns(["user_id", "source", "item_key"]).doUpdateSet((eb) => ({
            title: eb.ref("excluded.title"),
            body: eb.ref("excluded.body"),
            container: eb.ref("excluded.container"),
            etag: eb.ref("excluded.etag"),
            modified_at: eb.ref("excluded.modified_at"),
            indexed_at: eb.ref("excluded.indexed_at"),
            language: eb.ref("excluded.language"),
          })),
        )
        .execute();
    }
  }

  /** Removes items of one user; returns how many were there. */
  async remove(userId: string, source: IndexSource, keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const r = await this.#db
      .deleteFrom("search_items")
      .where("user_id", "=", userId)
      .where("source", "=", source)
      .where("item_key", "in", [...keys])
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** The indexed items of one source in one container, key → etag (what the next pass compares). */
  async itemsIn(userId: string, source: IndexSource, container: string): Promise<Map<string, string | null>> {
    const rows = await this.#db
      .selectFrom("search_items")
      .select(["item_key", "etag"])
      .where("user_id", "=", userId)
      .where("source", "=", source)
      .where("container", "=", container)
      .execute();
    return new Map(rows.map((r) => [r.item_key, r.etag]));
  }

  /** The containers of one source that hold items (to notice folders that went away). */
  async containers(userId: string, source: IndexSource): Promise<string[]> {
    const rows = await this.#db
      .selectFrom("search_items")
      .select("container")
      .distinct()
      .where("user_id", "=", userId)
      .where("source", "=", source)
      .execute();
    return rows.map((r) => r.container);
  }

  /** Removes every item of one source in a container and below it; returns how many. */
  async removeContainer(userId: string, source: IndexSource, container: string): Promise<number> {
    const r = await this.#db
      .deleteFrom("search_items")
      .where("user_id", "=", userId)
      .where("source", "=", source)
      .where((eb) =>
        eb.or([
          eb("container", "=", container),
          eb("container", "like", `${container.replace(/[\\%_]/g, "\\$&")}/%`),
        ]),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * The user's items matching `text` (web-search syntax: words, "quoted phrases", -excluded, or),
   * best first; words as typed first, then as prefixes when that finds nothing. Items whose name is
   * like the words (a misspelt or partial name, by trigram word similarity) come after every item
   * that matches by its words.
   */
  async search(
    userId: string,
    text: string,
    o: { limit: number; offset?: number; sources?: readonly IndexSource[] },
  ): Promise<IndexHit[]> {
    const name = nameQuery(text);
    const lang = this.#language;
    const run = async (db: Kysely<Database>, query: ReturnType<typeof sql<unknown>>) => {
      const byWords = sql<boolean>`document @@ ${query}`;
      const byName =
        name === undefined
          ? sql<boolean>`false`
          : name.exclude === undefined
            ? sql<boolean>`${name.like} <% title`
            : sql<boolean>`${name.like} <% title and not document @@ websearch_to_tsquery(${lang}::regconfig, ${name.exclude})`;
      let q = db
        .selectFrom("search_items")
        .select([
          "source",
          "item_key",
          "title",
          "container",
          "etag",
          "modified_at",
          // 0: matched by words; 1: only by a name like the words.
          sql<number>`case when ${byWords} then 0 else 1 end`.as("tier"),
          sql<number>`case when ${byWords} then ts_rank_cd(document, ${query}) else word_similarity(${name?.like ?? ""}, title) end`.as(
            "rank",
          ),
          sql<string>`ts_headline(language, title || E'\n' || body, ${query}, 'StartSel=«, StopSel=», MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "')`.as(
            "snippet",
          ),
        ])
        .where("user_id", "=", userId)
        .where((eb) => eb.or([byWords, byName]));
      if (o.sources !== undefined && o.sources.length > 0) q = q.where("source", "in", [...o.sources]);
      // Semantic ranking (EmbeddingProvider, not built) would combine here: these candidates plus
      // the user's items nearest to embed(text) (`embedding <=> $1`), ordered by a blend of both ranks.
      return q
        .orderBy("tier")
        .orderBy("rank", "desc")
        .orderBy("modified_at", (ob) => ob.desc().nullsLast())
        .orderBy("item_key")
        .limit(o.limit)
        .offset(o.offset ?? 0)
        .execute();
    };
    const rows = await this.#db.transaction().execute(async (tx) => {
      // For `<%` in this transaction only (the default, 0.6, misses one-letter misspellings).
      await sql`select set_config('pg_trgm.word_similarity_threshold', ${String(NAME_SIMILARITY)}, true)`.execute(
        tx,
      );
      const asTyped = await run(tx, sql`websearch_to_tsquery(${lang}::regconfig, ${text})`);
      const prefix = prefixQuery(text);
      const noWordMatch = asTyped.length === 0 || asTyped[0]?.tier === 1;
      if (noWordMatch && (o.offset ?? 0) === 0 && prefix !== undefined) {
        return run(tx, sql`to_tsquery(${lang}::regconfig, ${prefix})`);
      }
      return asTyped;
    });
    return rows.map((r) => ({
      source: r.source as IndexSource,
      key: r.item_key,
      title: r.title,
      container: r.container,
      etag: r.etag,
      modifiedAt: r.modified_at,
      snippet: r.snippet,
      rank: r.rank,
    }));
  }

  /** The token the last pass saw for a collection, if any. */
  async syncToken(userId: string, source: string, scope: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom("search_sync")
      .select("token")
      .where("user_id", "=", userId)
      .where("source", "=", source)
      .where("scope_key", "=", scope)
      .executeTakeFirst();
    return row?.token;
  }

  async setSyncToken(userId: string, source: string, scope: string, token: string): Promise<void> {
    await this.#db
      .insertInto("search_sync")
      .values({ user_id: userId, source, scope_key: scope, token })
      .onConflict((oc) => oc.columns(["user_id", "source", "scope_key"]).doUpdateSet({ token }))
      .execute();
  }

  /** The scopes of one kind that have a sync token. */
  async syncScopes(userId: string, source: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom("search_sync")
      .select("scope_key")
      .where("user_id", "=", userId)
      .where("source", "=", source)
      .execute();
    return rows.map((r) => r.scope_key);
  }

  /** Forgets the tokens of a collection and below, so the next pass reads it again. */
  async forgetSync(userId: string, source: string, scope: string): Promise<void> {
    await this.#db
      .deleteFrom("search_sync")
      .where("user_id", "=", userId)
      .where("source", "=", source)
      .where((eb) =>
        eb.or([
          eb("scope_key", "=", scope),
          eb("scope_key", "like", `${scope.replace(/[\\%_]/g, "\\$&")}/%`),
        ]),
      )
      .execute();
  }

  /**
   * Forgets the tokens of `folder` and of every folder above it, so that the next pass lists that
   * path again even when no ETag on it changed (e.g. a share was taken away).
   */
  async forgetSyncPath(userId: string, source: string, folder: string): Promise<void> {
    const scopes = ["/"];
    const parts = folder.split("/").filter((p) => p !== "");
    for (let i = 1; i <= parts.length; i++) scopes.push(`/${parts.slice(0, i).join("/")}`);
    await this.#db
      .deleteFrom("search_sync")
      .where("user_id", "=", userId)
      .where("source", "=", source)
      .where("scope_key", "in", scopes)
      .execute();
  }

  /**
   * Makes the next pass read again where an item dropped on read was: its folder and the folders
   * above it (files, notes), its calendar or address book from no sync token (a full resync of that
   * collection), its Deck board and the board list.
   */
  async requeue(userId: string, item: { source: IndexSource; container: string }): Promise<void> {
    switch (item.source) {
      case "files":
      case "notes":
        return this.forgetSyncPath(userId, "files", item.container);
      case "calendar":
      case "tasks":
        return this.forgetSync(userId, "calendar", item.container);
      case "contacts":
        return this.forgetSync(userId, "contacts", item.container);
      case "deck":
        await this.forgetSync(userId, "deck", item.container);
        return this.forgetSync(userId, "deck-boards", "boards");
    }
  }

  /** Whether the user's index is complete and not paused. */
  async isReady(userId: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom("search_index_users")
      .select("user_id")
      .where("user_id", "=", userId)
      .where("paused", "=", false)
      .where("ready_at", "is not", null)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Folders below `folder` (any depth) that hold items of any source or have a sync token. */
  async foldersBelow(userId: string, folder: string): Promise<string[]> {
    const prefix = `${folder === "/" ? "" : folder.replace(/[\\%_]/g, "\\$&")}/%`;
    const items = await this.#db
      .selectFrom("search_items")
      .select("container")
      .distinct()
      .where("user_id", "=", userId)
      .where("container", "like", prefix)
      .execute();
    const synced = await this.#db
      .selectFrom("search_sync")
      .select("scope_key")
      .where("user_id", "=", userId)
      .where("scope_key", "like", prefix)
      .execute();
    return [...new Set([...items.map((r) => r.container), ...synced.map((r) => r.scope_key)])];
  }

  /** The user's index as the account page shows it; undefined when the user has none. */
  async status(userId: string): Promise<IndexStatus | undefined> {
    const row = await this.#db
      .selectFrom("search_index_users")
      .select(["paused", "ready_at", "last_run_at", "last_error"])
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const count = await this.#db
      .selectFrom("search_items")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("user_id", "=", userId)
      .executeTakeFirstOrThrow();
    return {
      items: Number(count.n),
      paused: row.paused,
      readyAt: row.ready_at,
      lastRunAt: row.last_run_at,
      lastError: row.last_error,
    };
  }

  /** Pauses or resumes indexing for a user (creating their index state if needed). */
  async setPaused(userId: string, paused: boolean): Promise<void> {
    await this.#db
      .insertInto("search_index_users")
      .values({ user_id: userId, paused })
      .onConflict((oc) => oc.column("user_id").doUpdateSet({ paused }))
      .execute();
  }

  /** Deletes the user's whole index (items, sync state, index state) in one transaction. */
  async deleteAll(userId: string): Promise<number> {
    return this.#db.transaction().execute(async (tx) => {
      const r = await tx.deleteFrom("search_items").where("user_id", "=", userId).executeTakeFirst();
      await tx.deleteFrom("search_sync").where("user_id", "=", userId).execute();
      await tx.deleteFrom("search_index_users").where("user_id", "=", userId).execute();
      return Number(r.numDeletedRows);
    });
  }
}

/**
 * Checks that `language` is a text search configuration of this database (SEARCH_LANGUAGE).
 * @throws Error naming the configurations there are.
 */
export async function checkTextSearchConfig(db: Kysely<Database>, language: string): Promise<void> {
  const { rows } = await sql<{ cfgname: string }>`select cfgname from pg_ts_config order by cfgname`.execute(
    db,
  );
  const names = rows.map((r) => r.cfgname);
  if (!names.includes(language)) {
    throw new Error(
      `SEARCH_LANGUAGE: "${language}" is not a text search configuration of this database; use one of: ${names.join(", ")}`,
    );
  }
}
