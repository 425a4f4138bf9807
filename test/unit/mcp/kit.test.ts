// The tool kit's bounded parallel map, which the notes, calendar and search tools use to ask Nextcloud
// several things at once without flooding it, and the paging helpers of the list tools.
import { describe, expect, it } from "vitest";
import { mapLimited, pageOf, pageText } from "../../../src/mcp/index.ts";

describe("mapLimited", () => {
  it("keeps the order and never runs more than the limit at once", async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      most = Math.max(most, running);
      await Promise.resolve();
      await Promise.resolve();
      running--;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(most).toBe(3);
  });

  it("answers an empty list at once, and a limit above the count runs each item once", async () => {
    expect(await mapLimited([], 4, () => Promise.reject(new Error("never called")))).toEqual([]);
    let calls = 0;
    expect(await mapLimited(["a", "b"], 10, (x) => Promise.resolve(`${x}${String(++calls)}`))).toHaveLength(
      2,
    );
    expect(calls).toBe(2);
  });
});

describe("pageOf and pageText", () => {
  const names = ["ann", "bob", "cy", "dee", "eve"];
  const line = (n: string) => `- ${n}`;

  it("tells the model where the next page starts, and not on the last page", () => {
    const first = pageOf(names, 0, 2);
    expect(first).toEqual({ items: ["ann", "bob"], offset: 0, total: 5, nextOffset: 2 });
    expect(pageText(first, first.items, "contact", "none", line)).toBe(
      "5 contact(s), more from offset 2:\n- ann\n- bob",
    );
    const last = pageOf(names, 4, 2);
    expect(last.nextOffset).toBeNull();
    expect(pageText(last, last.items, "contact", "none", line)).toBe("5 contact(s):\n- eve");
  });

  it("says there is nothing in the tool's own words when the list is empty", () => {
    const empty = pageOf([] as string[], 0, 25);
    expect(pageText(empty, empty.items, "share", "No shares.", line)).toBe("No shares.");
  });
});
