// The index bench's text generator: the same seed gives the same text (runs are comparable), word
// frequencies fall off as in real text (ranking sees common and rare words), and queries are made of
// words the documents contain.
import { describe, expect, it } from "vitest";
import { RANKS, seededRandom, TextGenerator, vocabulary } from "../../../bench/text.ts";

describe("the index bench's text generator", () => {
  it("gives the same documents and queries for the same seed, and others for another seed", () => {
    const a = new TextGenerator(7, 5000);
    const b = new TextGenerator(7, 5000);
    const c = new TextGenerator(8, 5000);
    const take = (g: TextGenerator) => [g.document(), g.document(), g.query(), g.query()];
    const [ta, tb, tc] = [take(a), take(b), take(c)];
    expect(ta).toEqual(tb);
    expect(ta).not.toEqual(tc);
  });

  it("draws numbers in [0, 1) that spread over the interval", () => {
    const r = seededRandom(1);
    const xs = Array.from({ length: 10_000 }, () => r());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const low = xs.filter((x) => x < 0.5).length;
    expect(low).toBeGreaterThan(4500);
    expect(low).toBeLessThan(5500);
  });

  it("has a vocabulary of distinct words, real words first then made-up ones", () => {
    const words = vocabulary(3, 3000);
    expect(new Set(words).size).toBe(3000);
    expect(words[0]).toBe("the");
    expect(words[RANKS.firstContent]).toBe("meeting");
    expect(words.every((w) => /^[a-z]+$/.test(w))).toBe(true);
  });

  it("uses frequent words far more often than rare ones (Zipf)", () => {
    const g = new TextGenerator(11, 20_000);
    const counts = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      for (const w of g
        .document(100, 100)
        .body.toLowerCase()
        .split(/[^a-z]+/)) {
        if (w !== "") counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    }
    const of = (rank: number) => counts.get(g.words[rank] ?? "") ?? 0;
    expect(of(0)).toBeGreaterThan(10 * of(100));
    // Many distinct words, most of them rare: the long tail.
    expect(counts.size).toBeGreaterThan(3000);
    const once = [...counts.values()].filter((n) => n === 1).length;
    expect(once).toBeGreaterThan(counts.size / 3);
  });

  it("makes queries of 1–3 content words, taken from the document when asked about one", () => {
    const g = new TextGenerator(5, 20_000);
    const fn = new Set(g.words.slice(0, RANKS.firstContent));
    for (let i = 0; i < 100; i++) {
      const { title, body } = g.document();
      const query = g.queryFor(`${title}\n${body}`).split(" ");
      expect(query.length).toBeGreaterThanOrEqual(1);
      expect(query.length).toBeLessThanOrEqual(3);
      const inDoc = new Set(`${title} ${body}`.toLowerCase().split(/[^a-z]+/));
      for (const w of query) {
        expect(inDoc.has(w)).toBe(true);
        expect(fn.has(w)).toBe(false);
      }
      const free = g.query().split(" ");
      expect(free.length).toBeGreaterThanOrEqual(1);
      expect(free.length).toBeLessThanOrEqual(3);
      expect(free.every((w) => g.words.includes(w) && !fn.has(w))).toBe(true);
    }
  });
});
