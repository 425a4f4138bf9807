// The tool kit every app's tools share: one error translation (a Nextcloud error reworded into what
// the model should do next), one refusal for contradictory arguments, and one paging convention
// (`offset` and `limit` in, `nextOffset` out: null on the last page); and bounded parallel calls.
import { z } from "zod";
import { GatewayError } from "../errors.ts";
import { NextcloudError, type NextcloudErrorKind } from "../nextcloud/index.ts";

/**
 * Runs a Nextcloud call and rewords the errors the tool can explain better (e.g. `not_found`:
 * "No folder at /x; use files_list on / to see what is there"); other errors pass unchanged.
 */
export async function explained<T>(
  call: Promise<T>,
  messages: Partial<Record<NextcloudErrorKind, string | (() => Promise<string>)>>,
): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (!(err instanceof NextcloudError)) throw err;
    const message = messages[err.kind];
    if (message === undefined) throw err;
    throw reword(err, typeof message === "string" ? message : await message());
  }
}

/** The same Nextcloud error with a message that fits the tool's situation; the original is the cause. */
export function reword(err: NextcloudError, description: string): NextcloudError {
  return new NextcloudError(err.kind, description, {
    ...(err.httpStatus === undefined ? {} : { httpStatus: err.httpStatus }),
    ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
    ...(err.detail === undefined ? {} : { detail: err.detail }),
    cause: err,
  });
}

/** A refusal of arguments that contradict each other, before any request. */
export function badArguments(message: string): GatewayError {
  return new GatewayError("invalid_request", message);
}

/** The paging arguments: `offset` (default 0) and `limit` (1 to `max`, default `byDefault`). */
export function pageInput(what: string, byDefault: number, max: number) {
  return {
    offset: z
      .number()
      .int()
      .min(0, "The offset cannot be negative.")
      .default(0)
      .describe(`How many ${what} to skip, for the next page (default 0).`),
    limit: z
      .number()
      .int()
      .min(1, "The limit must be at least 1.")
      .max(max, `The limit may be at most ${String(max)}.`)
      .default(byDefault)
      .describe(`At most this many ${what} (1-${String(max)}, default ${String(byDefault)}).`),
  };
}

/** The paging fields of a result: where this page started, how many in all, where the next starts. */
export const pageOutput = {
  offset: z.number().int().describe("How many entries were skipped before this page."),
  total: z.number().int().describe("How many entries there are in all."),
  nextOffset: z
    .number()
    .int()
    .nullable()
    .describe("The `offset` of the next page, or null on the last page."),
};

/** One page of `items` and its paging fields. */
export function pageOf<T>(
  items: readonly T[],
  offset: number,
  limit: number,
): { items: T[]; offset: number; total: number; nextOffset: number | null } {
  const page = items.slice(offset, offset + limit);
  return {
    items: page,
    offset,
    total: items.length,
    nextOffset: offset + limit < items.length ? offset + limit : null,
  };
}

/** A page's text: "<total> <what>(s), more from offset N:" and one line per entry, or `none` when empty. */
export function pageText<T>(
  page: { total: number; nextOffset: number | null },
  entries: readonly T[],
  what: string,
  none: string,
  line: (entry: T) => string,
): string {
  if (page.total === 0) return none;
  const more = page.nextOffset === null ? "" : `, more from offset ${String(page.nextOffset)}`;
  return `${String(page.total)} ${what}(s)${more}:\n${entries.map(line).join("\n")}`;
}

/** `fn` over `items` with at most `limit` calls at a time (one app's parallel Nextcloud reads), results in input order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
