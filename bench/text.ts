// Varied, repeatable text for the index bench: a vocabulary ranked by frequency (English function
// words, then everyday office words, then a long tail of made-up words built from syllables), words
// drawn with a Zipf distribution, so that full-text ranking sees what real notes and files give it:
// a few words in almost every document, many in some, most in a handful. Everything comes from one
// seeded generator: the same seed gives the same documents and queries on every run.

/** A seeded pseudo-random generator (mulberry32): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FUNCTION_WORDS =
  "the of and to a in is that for it with as was on be by at this are from or have an not but they which we you all were can there been has more their will if would about so what when out up one no into than them some could only other then its also our these two over any after".split(
    " ",
  );

const OFFICE_WORDS =
  "meeting project budget team release plan report customer review decision client invoice contract schedule deadline design draft feedback goal issue launch market minutes office order partner payment policy price product proposal quarter question risk sales server service strategy supplier support task test travel update version workshop agenda action board change cost data delivery document email estimate event forecast hiring holiday interview kitchen lunch migration network onboarding outage password printer recipe repair research roadmap security shipping sprint storage summary survey training vacation vendor website backup calendar contact database garden invoice library license mobile museum newsletter parking photo podcast postmortem receipt renovation school spreadsheet stock subscription tax ticket tutorial warehouse weather wedding approve cancel confirm deliver discuss estimate finish hire install measure move organise pay prepare publish rename renew replace request resolve sign submit upgrade verify urgent weekly monthly annual early late new old final internal external open closed pending draft blue green red yellow north south east west friday monday tuesday wednesday thursday saturday sunday january february march april june july august september october november december berlin paris london madrid vienna zurich oslo lisbon".split(
    " ",
  );

const ONSETS = [
  "b",
  "br",
  "c",
  "ch",
  "d",
  "dr",
  "f",
  "g",
  "gr",
  "k",
  "l",
  "m",
  "n",
  "p",
  "pl",
  "r",
  "s",
  "st",
  "t",
  "tr",
  "v",
  "z",
];
const VOWELS = ["a", "e", "i", "o", "u", "ai", "ei", "ou"];
const CODAS = ["", "", "n", "r", "l", "s", "m", "nd", "st", "x"];

/**
 * `size` distinct lower-case words, most frequent first: the function words, the office words, then
 * made-up words of two to four syllables (they stand for names, jargon and typos, the long tail).
 */
export function vocabulary(seed: number, size: number): string[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const words = new Set<string>([...FUNCTION_WORDS, ...OFFICE_WORDS]);
  while (words.size < size) {
    const syllables = 2 + Math.floor(random() * 3);
    let w = "";
    for (let i = 0; i < syllables; i++)
      w += pick(ONSETS) + pick(VOWELS) + (i === syllables - 1 ? pick(CODAS) : "");
    words.add(w);
  }
  return [...words].slice(0, size);
}

/** Where the first office word and the first made-up word are in a {@link vocabulary}. */
export const RANKS = {
  firstContent: new Set(FUNCTION_WORDS).size,
  firstTail: new Set([...FUNCTION_WORDS, ...OFFICE_WORDS]).size,
} as const;

/** Documents and queries over a vocabulary, Zipf-distributed (exponent 1), from one seed. */
export class TextGenerator {
  readonly words: readonly string[];
  readonly #random: () => number;
  /** Cumulative Zipf weights, for a binary search per word. */
  readonly #cumulative: Float64Array;
  readonly #rankOf: Map<string, number>;

  constructor(seed: number, vocabularySize = 20_000) {
    this.words = vocabulary(seed, vocabularySize);
    this.#rankOf = new Map(this.words.map((w, r) => [w, r] as const));
    this.#random = seededRandom(seed ^ 0x5eed);
    this.#cumulative = new Float64Array(this.words.length);
    let sum = 0;
    for (let r = 0; r < this.words.length; r++) {
      sum += 1 / (r + 1);
      this.#cumulative[r] = sum;
    }
  }

  /** A number in [0, 1) from this generator's sequence. */
  random(): number {
    return this.#random();
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#random() * (max - min + 1));
  }

  /** The rank of a word drawn from the Zipf distribution. */
  rank(): number {
    const total = this.#cumulative[this.#cumulative.length - 1] ?? 1;
    const x = this.#random() * total;
    let lo = 0;
    let hi = this.#cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.#cumulative[mid] ?? 0) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  word(): string {
    return this.words[this.rank()] ?? "";
  }

  /** A word that is not a function word, Zipf-distributed among the rest (titles are made of these). */
  contentWord(): string {
    for (;;) {
      const r = this.rank();
      if (r >= RANKS.firstContent) return this.words[r] ?? "";
    }
  }

  /** A sentence of 4–18 words, capitalised, with a full stop. */
  sentence(): string {
    const n = this.int(4, 18);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.word());
    const text = out.join(" ");
    return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
  }

  /** A title of 1–5 content words. */
  title(): string {
    const n = this.int(1, 5);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.contentWord());
    return out.join(" ");
  }

  /** A Markdown document of about `minWords`–`maxWords` words in paragraphs, headed by its title. */
  document(minWords = 30, maxWords = 400): { title: string; body: string } {
    const title = this.title();
    const target = this.int(minWords, maxWords);
    const paragraphs: string[] = [];
    let words = 0;
    while (words < target) {
      const sentences: string[] = [];
      const count = this.int(1, 5);
      for (let i = 0; i < count && words < target; i++) {
        const s = this.sentence();
        words += s.split(" ").length;
        sentences.push(s);
      }
      paragraphs.push(sentences.join(" "));
    }
    return { title, body: `# ${title}\n\n${paragraphs.join("\n\n")}\n` };
  }

  /**
   * A query of 1–3 content words as people type them: each word common (among the 150 most frequent
   * content words), of middling frequency (up to rank 2,000) or rare (the long tail), a third each.
   * Words drawn independently rarely occur together: most such queries of two or three words find
   * nothing (and take the prefix fallback).
   */
  query(): string {
    const n = this.int(1, 3);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.words[this.#bandRank()] ?? "");
    return out.join(" ");
  }

  /**
   * A query for something the user remembers of `document` (its title and body): 1–3 distinct
   * content words of it, each the rarest of a few of its words drawn at random or any one of them,
   * so that the query has common and rare words as the document has them.
   */
  queryFor(document: string): string {
    const rank = this.#rankOf;
    const words = [
      ...new Set(
        document
          .toLowerCase()
          .split(/[^\p{L}\p{N}]+/u)
          .filter((w) => (rank.get(w) ?? -1) >= RANKS.firstContent),
      ),
    ];
    if (words.length === 0) return this.query();
    const n = Math.min(words.length, this.int(1, 3));
    const out = new Set<string>();
    while (out.size < n) {
      const draws = Array.from({ length: this.int(1, 4) }, () => words[this.int(0, words.length - 1)] ?? "");
      out.add(draws.reduce((a, b) => ((rank.get(a) ?? 0) >= (rank.get(b) ?? 0) ? a : b)));
    }
    return [...out].join(" ");
  }

  #bandRank(): number {
    const last = this.words.length - 1;
    const band = this.int(0, 2);
    if (band === 0) return this.int(RANKS.firstContent, Math.min(RANKS.firstContent + 150, last));
    if (band === 1) return this.int(Math.min(RANKS.firstContent + 150, last), Math.min(2000, last));
    return this.int(Math.min(2000, last), last);
  }
}
