// Nextcloud's unified search over OCS: the providers a user has, and one provider's page of results.
// Shapes: core.openapi.json (UnifiedSearchProvider, UnifiedSearchResult); a provider's entries may
// carry `attributes` as an object (files: fileId, path) although the spec types an empty array.
// @see https://docs.nextcloud.com/server/latest/developer_manual/digging_deeper/search.html
import { z } from "zod";
import { NextcloudError, type NextcloudClient } from "../../nextcloud/index.ts";

/** One search provider as Nextcloud announces it. */
export interface SearchProvider {
  id: string;
  appId: string;
  name: string;
  order: number;
  /** The filters it supports, by name, with their type (`string`, `datetime`, `person`, `bool`, `int`). */
  filters: Record<string, string>;
}

/** One result entry, as a provider sends it. */
export interface SearchEntry {
  title: string;
  subline: string;
  resourceUrl: string;
  icon: string;
  attributes: Record<string, string>;
}

/** One provider's page. `cursor` is what to send for the next page (null when there is none). */
export interface SearchPage {
  name: string;
  entries: SearchEntry[];
  isPaginated: boolean;
  cursor: string | number | null;
}

const providerShape = z.looseObject({
  id: z.string(),
  appId: z.string().catch(""),
  name: z.string().catch(""),
  order: z.number().catch(0),
  filters: z.record(z.string(), z.string()).catch({}),
});

const entryShape = z.looseObject({
  title: z.string().catch(""),
  subline: z.string().catch(""),
  resourceUrl: z.string().catch(""),
  icon: z.string().catch(""),
  // An object when the provider set attributes, an empty array when it did not.
  attributes: z
    .union([z.record(z.string(), z.union([z.string(), z.number()])), z.array(z.unknown())])
    .catch([]),
});

const pageShape = z.looseObject({
  name: z.string().catch(""),
  isPaginated: z.boolean().catch(false),
  entries: z.array(entryShape),
  cursor: z.union([z.string(), z.number(), z.null()]).catch(null),
});

/** The user's search providers, in Nextcloud's order. */
export async function listProviders(nc: NextcloudClient, signal?: AbortSignal): Promise<SearchProvider[]> {
  const data = await nc.ocs("GET", "search/providers", {
    what: "the search providers",
    ...(signal === undefined ? {} : { signal }),
  });
  const parsed = z.array(z.unknown()).safeParse(data);
  if (!parsed.success)
    throw new NextcloudError("bad_response", "Nextcloud's list of search providers is not a list.");
  return parsed.data
    .flatMap((p) => {
      const one = providerShape.safeParse(p);
      return one.success ? [one.data] : [];
    })
    .sort((a, b) => a.order - b.order);
}

/** One page of one provider's results for `term`, with the provider's own filters passed through. */
export async function searchProvider(
  nc: NextcloudClient,
  provider: SearchProvider,
  params: { term: string; limit: number; cursor?: string | number; filters: Record<string, string> },
  signal?: AbortSignal,
): Promise<SearchPage> {
  const data = await nc.ocs("GET", `search/providers/${encodeURIComponent(provider.id)}/search`, {
    what: `the ${provider.name || provider.id} search`,
    params: {
      term: params.term,
      limit: params.limit,
      ...(params.cursor === undefined ? {} : { cursor: params.cursor }),
      ...params.filters,
    },
    ...(signal === undefined ? {} : { signal }),
  });
  const parsed = pageShape.safeParse(data);
  if (!parsed.success) {
    throw new NextcloudError(
      "bad_response",
      `Nextcloud's ${provider.id} search answered in an unknown shape.`,
    );
  }
  return {
    ...parsed.data,
    entries: parsed.data.entries.map((e) => ({
      title: e.title,
      subline: e.subline,
      resourceUrl: e.resourceUrl,
      icon: e.icon,
      attributes: Array.isArray(e.attributes)
        ? {}
        : Object.fromEntries(Object.entries(e.attributes).map(([k, v]) => [k, String(v)])),
    })),
  };
}
