// The `search` tool, live: Nextcloud's unified search providers queried in parallel, each within a
// time budget, the hits merged in Nextcloud's provider order, each with the tool call that opens it.
// Paging: one opaque cursor holds every provider's own cursor, bound to the query it belongs to.
import { createHash } from "node:crypto";
import { z } from "zod";
import { GatewayError } from "../../errors.ts";
import { NextcloudError, type NextcloudClient } from "../../nextcloud/index.ts";
import { badArguments, mapLimited, nextcloudOf, toolMaker, type ToolContext } from "../../mcp/index.ts";
import { cardIdsByUid } from "../contacts/client.ts";
import { INDEXED_SOURCES, searchIndexed, type IndexedSource } from "./indexed.ts";
import { contactRef, openHint, type OpenHint } from "./open.ts";
import { listProviders, searchProvider, type SearchEntry, type SearchProvider } from "./unified.ts";

/** How long one provider may take before its results are left out (the others still answer). */
export const PROVIDER_BUDGET_MS = 5_000;
/** How the index answers name its sources. */
const INDEX_NAMES: Record<IndexedSource, string> = {
  files: "Files",
  notes: "Notes",
  calendar: "Events",
  tasks: "Tasks",
  contacts: "Contacts",
  deck: "Deck cards",
};

/** Providers searched at once. */
const PARALLEL = 6;

// Needs Nextcloud, no particular app: unified search is part of every Nextcloud.
const tools = toolMaker("search", { capability: "nextcloud" });

const hitSchema = z.object({
  provider: z.string().describe("The provider id (files, notes, calendar, tasks, contacts, …)."),
  title: z.string(),
  subline: z.string(),
  url: z.string().describe("Where the item opens in Nextcloud's web interface."),
  id: z
    .union([z.string(), z.number()])
    .nullable()
    .describe("The id or path the app's own tools take (null when no tool of this gateway reads it)."),
  open: z
    .object({ tool: z.string(), arguments: z.record(z.string(), z.union([z.string(), z.number()])) })
    .nullable()
    .describe("The tool call that opens the hit."),
  snippet: z
    .string()
    .nullable()
    .describe("From the content index: a passage with the matched words between « and »; null when live."),
});

const providerStatus = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(["ok", "failed", "timed_out", "skipped"]),
  hits: z.number(),
  more: z.boolean().describe("More results on the next page (pass nextCursor)."),
  message: z.string().nullable(),
});

type Hit = z.infer<typeof hitSchema>;
type ProviderStatus = z.infer<typeof providerStatus>;

/** The filters this tool passes on, by the name Nextcloud's providers announce them with. */
type FilterName = "since" | "until" | "person";

interface CursorState {
  /** A digest of the query and filters the cursor belongs to. */
  q: string;
  /** Each provider still to page, with its own cursor (live search). */
  p?: Record<string, string | number>;
  /** Where the next page of the content index starts. */
  o?: number;
}

const digest = (parts: unknown) =>
  createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 16);

function readCursor(cursor: string, q: string): CursorState {
  let state: unknown;
  try {
    state = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    state = undefined;
  }
  const parsed = z
    .object({
      q: z.string(),
      p: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
      o: z.number().int().min(0).optional(),
    })
    .refine((c) => (c.p === undefined) !== (c.o === undefined))
    .safeParse(state);
  if (!parsed.success) throw badArguments("cursor is not a cursor from search; leave it out to start again.");
  if (parsed.data.q !== q) {
    throw badArguments(
      "cursor belongs to another search (query, apps or filters differ); leave it out to start this one.",
    );
  }
  return parsed.data;
}

const writeCursor = (state: CursorState) => Buffer.from(JSON.stringify(state)).toString("base64url");

/** An ISO 8601 date or date-time as Nextcloud's datetime filters take it; undefined when absent. */
function dateFilter(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (
    !/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ||
    Number.isNaN(Date.parse(value))
  )
    throw badArguments(
      `${name} must be a date like "2026-11-01" or a date-time like "2026-11-01T09:00:00Z"; got "${value}".`,
    );
  return value;
}

/** Runs `work` with a signal that aborts after `ms` or when `outer` aborts; reports which one. */
async function withBudget<T>(
  outer: AbortSignal,
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<{ value: T } | { timedOut: true } | { error: unknown }> {
  const budget = AbortSignal.timeout(ms);
  try {
    return { value: await work(AbortSignal.any([outer, budget])) };
  } catch (error) {
    if (budget.aborted && !outer.aborted) return { timedOut: true };
    return { error };
  }
}

const reason = (err: unknown) =>
  err instanceof GatewayError ? err.description : err instanceof Error ? err.message : String(err);

/** Contact hits name cards by UID and book; resolves the ids the contacts tools take, one query per book. */
async function resolveContacts(
  nc: NextcloudClient,
  hits: { hit: Hit; entry: SearchEntry }[],
  signal: AbortSignal,
) {
  const byBook = new Map<string, { hit: Hit; uid: string }[]>();
  for (const h of hits) {
    const ref = contactRef(h.entry);
    if (ref === undefined) continue;
    const list = byBook.get(ref.book) ?? [];
    list.push({ hit: h.hit, uid: ref.uid });
    byBook.set(ref.book, list);
  }
  await Promise.all(
    [...byBook].map(async ([book, list]) => {
      const ids = await cardIdsByUid(
        nc,
        book,
        list.map((l) => l.uid),
        signal,
      ).catch(() => new Map<string, string>());
      for (const { hit, uid } of list) {
        const id = ids.get(uid);
        if (id === undefined) continue;
        hit.id = id;
        hit.open = { tool: "contacts_get", arguments: { book, id } };
      }
    }),
  );
}

export const search = tools.read({
  name: "search",
  title: "Search Nextcloud",
  description:
    "Finds items across the user's Nextcloud apps (files by name, notes, events, tasks, contacts, …) with Nextcloud's unified search. Each hit has `open`: the tool call that reads it. Narrow with apps, since, until.",
  input: z.object({
    query: z.string().trim().min(1).max(200).describe("Words to find."),
    apps: z
      .array(z.string().min(1).max(64))
      .max(20)
      .optional()
      .describe('Provider ids to search, e.g. ["files","notes"]; default all.'),
    since: z.string().optional().describe('Only items changed or starting after this, e.g. "2026-11-01".'),
    until: z.string().optional().describe("Only items before this."),
    person: z
      .string()
      .max(64)
      .optional()
      .describe("A user id: items shared with or by them (where supported)."),
    limit: z.number().int().min(1).max(25).default(5).describe("Hits per provider and page (1-25)."),
    cursor: z.string().max(4000).optional().describe("nextCursor of the previous page."),
  }),
  output: z.object({
    query: z.string(),
    source: z
      .enum(["index", "live"])
      .describe(
        "index: the gateway's content index of the user's files, notes, events, tasks, contacts and Deck cards (every hit checked just now); live: Nextcloud's unified search.",
      ),
    hits: z.array(hitSchema),
    providers: z
      .array(providerStatus)
      .describe("What each provider did: ok, failed, timed_out, skipped (with why)."),
    nextCursor: z.string().nullable().describe("Pass as cursor for more hits; null when none."),
  }),
  async handler(args, ctx: ToolContext) {
    const nc = nextcloudOf(ctx);
    const filters: Partial<Record<FilterName, string>> = {};
    const since = dateFilter("since", args.since);
    const until = dateFilter("until", args.until);
    if (since !== undefined) filters.since = since;
    if (until !== undefined) filters.until = until;
    if (args.person !== undefined && args.person.trim() !== "") filters.person = args.person.trim();
    const wanted = args.apps === undefined ? undefined : [...new Set(args.apps.map((a) => a.trim()))].sort();
    const q = digest([args.query, wanted ?? null, filters, args.limit]);
    const state = args.cursor === undefined ? undefined : readCursor(args.cursor, q);

    // The content index answers when the user's index is complete and the search fits it: only
    // the apps it keeps, no filters the index does not keep.
    const indexSources = (wanted ?? INDEXED_SOURCES).filter((a): a is IndexedSource =>
      (INDEXED_SOURCES as readonly string[]).includes(a),
    );
    const index = ctx.searchIndex;
    const fitsIndex =
      Object.keys(filters).length === 0 &&
      indexSources.length > 0 &&
      indexSources.length === (wanted ?? INDEXED_SOURCES).length &&
      state?.p === undefined;
    if (index !== undefined && fitsIndex && (state?.o !== undefined || (await index.ready()))) {
      const page = await searchIndexed(nc, index, {
        query: args.query,
        sources: indexSources,
        limit: args.limit * indexSources.length,
        offset: state?.o ?? 0,
      });
      if (page.dropped > 0)
        ctx.log.info({ dropped: page.dropped }, "search: index hits gone on read were dropped");
      const message =
        page.unchecked > 0
          ? `${String(page.unchecked)} hit(s) left out: Nextcloud did not confirm them just now`
          : null;
      return {
        query: args.query,
        source: "index" as const,
        hits: page.hits,
        providers: indexSources.map((id) => ({
          id,
          name: `${INDEX_NAMES[id]} (content index)`,
          status: "ok" as const,
          hits: page.hits.filter((h) => h.provider === id).length,
          more: page.nextOffset !== undefined,
          message,
        })),
        nextCursor: page.nextOffset === undefined ? null : writeCursor({ q, o: page.nextOffset }),
      };
    }

    const all = await listProviders(nc, ctx.signal);
    if (wanted !== undefined) {
      const known = new Set(all.map((p) => p.id));
      const unknown = wanted.filter((a) => !known.has(a));
      if (unknown.length > 0) {
        throw badArguments(
          `No search provider ${unknown.map((u) => `"${u}"`).join(", ")} in this Nextcloud; the providers are: ${all.map((p) => p.id).join(", ")}.`,
        );
      }
    }
    const statuses: ProviderStatus[] = [];
    const chosen: SearchProvider[] = [];
    for (const p of all) {
      if (wanted !== undefined && !wanted.includes(p.id)) continue;
      if (state?.p !== undefined && !(p.id in state.p)) continue;
      const missing = (Object.keys(filters) as FilterName[]).filter((f) => !(f in p.filters));
      if (missing.length > 0) {
        statuses.push({
          id: p.id,
          name: p.name,
          status: "skipped",
          hits: 0,
          more: false,
          message: `does not support the ${missing.join(" and ")} filter`,
        });
      } else chosen.push(p);
    }

    const next: Record<string, string | number> = {};
    const results = await mapLimited(chosen, PARALLEL, (p) =>
      withBudget(ctx.signal, PROVIDER_BUDGET_MS, (signal) =>
        searchProvider(
          nc,
          p,
          {
            term: args.query,
            limit: args.limit,
            ...(state?.p?.[p.id] === undefined ? {} : { cursor: state.p[p.id] }),
            filters: Object.fromEntries(Object.entries(filters)),
          },
          signal,
        ),
      ),
    );
    const hits: { hit: Hit; entry: SearchEntry }[] = [];
    chosen.forEach((p, i) => {
      const r = results[i];
      if (r === undefined) return;
      if ("timedOut" in r) {
        statuses.push({
          id: p.id,
          name: p.name,
          status: "timed_out",
          hits: 0,
          more: false,
          message: `no answer within ${String(PROVIDER_BUDGET_MS / 1000)} s; search it alone with apps: ["${p.id}"]`,
        });
        return;
      }
      if ("error" in r) {
        if (r.error instanceof NextcloudError && r.error.kind === "unauthorized") throw r.error;
        statuses.push({
          id: p.id,
          name: p.name,
          status: "failed",
          hits: 0,
          more: false,
          message: reason(r.error),
        });
        return;
      }
      const page = r.value;
      const more = page.isPaginated && page.cursor !== null && page.entries.length >= args.limit;
      if (more && page.cursor !== null) next[p.id] = page.cursor;
      statuses.push({
        id: p.id,
        name: page.name || p.name,
        status: "ok",
        hits: page.entries.length,
        more,
        message: null,
      });
      for (const entry of page.entries) {
        const hint: OpenHint | undefined = openHint(p.id, entry);
        hits.push({
          entry,
          hit: {
            provider: p.id,
            title: entry.title,
            subline: entry.subline,
            url: entry.resourceUrl,
            id: hint?.id ?? null,
            open: hint === undefined ? null : { tool: hint.tool, arguments: hint.arguments },
            snippet: null,
          },
        });
      }
    });
    await resolveContacts(
      nc,
      hits.filter((h) => h.hit.provider === "contacts"),
      ctx.signal,
    );
    const order = new Map(all.map((p, i) => [p.id, i]));
    statuses.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    return {
      query: args.query,
      source: "live" as const,
      hits: hits.map((h) => h.hit),
      providers: statuses,
      nextCursor: Object.keys(next).length === 0 ? null : writeCursor({ q, p: next }),
    };
  },
  text(o) {
    const lines = o.hits.map((h) => {
      const open = h.open === null ? "" : ` → ${h.open.tool} ${JSON.stringify(h.open.arguments)}`;
      const snippet = h.snippet === null ? "" : `\n  ${h.snippet.replace(/\s+/g, " ")}`;
      return `- [${h.provider}] ${h.title}${h.subline === "" ? "" : ` (${h.subline})`}${open}${snippet}`;
    });
    const from =
      o.source === "index" ? "from the content index, each hit checked just now" : "live from Nextcloud";
    const trouble = o.providers
      .filter((p) => p.status !== "ok")
      .map((p) => `${p.id}: ${p.status.replace("_", " ")}${p.message === null ? "" : ` (${p.message})`}`);
    const head =
      o.hits.length === 0
        ? `Nothing found for "${o.query}" (${from}).`
        : `${String(o.hits.length)} hit(s) for "${o.query}" (${from}):`;
    return [
      head,
      ...lines,
      ...(trouble.length === 0 ? [] : [`Not searched or failed: ${trouble.join("; ")}.`]),
      ...(o.nextCursor === null ? [] : ["More: call search again with cursor = nextCursor."]),
    ].join("\n");
  },
});
