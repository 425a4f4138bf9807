// The text of OOXML (.docx, .xlsx, .pptx) and OpenDocument (.odt, .ods, .odp) files: the XML parts
// that hold what a reader sees, read from the archive under the inflate budget, and the character
// data of their text elements, with a line break after each paragraph. Markup, styles, formulas and
// numbers are left out: the index wants words.
import { readEntry, zipEntries, ZipError, type InflateBudget } from "./zip.ts";

export type OfficeKind = "docx" | "xlsx" | "pptx" | "odt" | "ods" | "odp";

/** Which parts hold the text, in reading order, and which elements in them. */
interface Layout {
  parts: (names: readonly string[]) => string[];
  /** Elements whose character data is text. */
  text: (tag: string) => boolean;
  /** Elements after which a line ends (paragraphs, table cells, list items). */
  lineEnd: ReadonlySet<string>;
  /** Empty elements that stand for white space (tabs, breaks, runs of spaces). */
  space: ReadonlySet<string>;
}

/** slide2 before slide10. */
const numbered = (prefix: RegExp) => (names: readonly string[]) =>
  names
    .filter((n) => prefix.test(n))
    .sort((a, b) => Number(/(\d+)\.xml$/.exec(a)?.[1] ?? 0) - Number(/(\d+)\.xml$/.exec(b)?.[1] ?? 0));

const ODF: Layout = {
  parts: (names) => names.filter((n) => n === "content.xml"),
  // Paragraphs, headings, spans, links, notes: text:p holds the text of table cells and frames too.
  text: (tag) => tag.startsWith("text:"),
  lineEnd: new Set(["text:p", "text:h", "table:table-cell", "text:list-item"]),
  space: new Set(["text:s", "text:tab", "text:line-break"]),
};

const LAYOUTS: Record<OfficeKind, Layout> = {
  docx: {
    parts: (names) =>
      ["word/document.xml", "word/footnotes.xml", "word/endnotes.xml"].filter((n) => names.includes(n)),
    text: (tag) => tag === "w:t",
    lineEnd: new Set(["w:p"]),
    space: new Set(["w:tab", "w:br", "w:cr"]),
  },
  xlsx: {
    // Shared strings hold the sheets' text; a sheet's own <t> are inline strings.
    parts: (names) => [
      ...names.filter((n) => n === "xl/sharedStrings.xml"),
      ...numbered(/^xl\/worksheets\/sheet\d+\.xml$/)(names),
    ],
    text: (tag) => tag === "t",
    lineEnd: new Set(["si", "is"]),
    space: new Set(),
  },
  pptx: {
    parts: (names) => [
      ...numbered(/^ppt\/slides\/slide\d+\.xml$/)(names),
      ...numbered(/^ppt\/notesSlides\/notesSlide\d+\.xml$/)(names),
    ],
    text: (tag) => tag === "a:t",
    lineEnd: new Set(["a:p"]),
    space: new Set(["a:br"]),
  },
  odt: ODF,
  ods: ODF,
  odp: ODF,
};

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** XML character data with its entity and character references resolved. */
export function decodeXmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith("#")) {
      const code = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : "";
    }
    return ENTITIES[ref] ?? whole;
  });
}

/** The name of a tag from what is between its angle brackets ("/w:t", "w:t xml:space=…", "w:br/"). */
const tagName = (inner: string) => /^\/?([^\s/>]+)/.exec(inner)?.[1] ?? "";

/**
 * Appends the text of one XML part to `out`, stopping at `maxChars` in all. One forward scan with
 * indexOf, so any input costs time linear in its length (a pattern that may run to the end of the
 * part from every `<` would make "<a<a<a…" quadratic); an unterminated tag, comment or section ends
 * the part.
 */
function partText(xml: string, layout: Layout, out: { text: string[]; chars: number }, maxChars: number) {
  let depth = 0;
  const push = (s: string) => {
    if (out.chars >= maxChars || s === "") return;
    const cut = s.slice(0, maxChars - out.chars);
    out.text.push(cut);
    out.chars += cut.length;
  };
  let i = 0;
  while (i < xml.length && out.chars < maxChars) {
    const lt = xml.indexOf("<", i);
    if (depth > 0) push(decodeXmlText(xml.slice(i, lt < 0 ? xml.length : lt)));
    if (lt < 0) return;
    if (xml.startsWith("<![CDATA[", lt)) {
      const end = xml.indexOf("]]>", lt + 9);
      if (end < 0) return;
      if (depth > 0) push(xml.slice(lt + 9, end));
      i = end + 3;
      continue;
    }
    if (xml.startsWith("<!--", lt)) {
      const end = xml.indexOf("-->", lt + 4);
      if (end < 0) return;
      i = end + 3;
      continue;
    }
    const gt = xml.indexOf(">", lt + 1);
    if (gt < 0) return;
    i = gt + 1;
    const inner = xml.slice(lt + 1, gt);
    // Processing instructions and declarations (<?xml …?>, <!DOCTYPE …>) hold no text.
    if (inner.startsWith("?") || inner.startsWith("!")) continue;
    const tag = tagName(inner);
    if (layout.space.has(tag)) push(tag.endsWith("br") || tag === "text:line-break" ? "\n" : " ");
    if (inner.endsWith("/")) continue;
    if (inner.startsWith("/")) {
      if (layout.text(tag)) depth = Math.max(0, depth - 1);
      if (layout.lineEnd.has(tag)) push("\n");
    } else if (layout.text(tag)) {
      depth++;
    }
  }
}

/** The limits of one document's text. */
export interface OfficeLimits {
  maxChars: number;
  /** Bytes inflated from the archive for all parts together. */
  maxInflatedBytes: number;
  /** Checked between parts. @throws when the document's time is up. */
  checkTime: () => void;
}

/**
 * The text of an OOXML or OpenDocument file.
 * @throws ZipError (corrupt, encrypted, too_large).
 */
export function officeText(kind: OfficeKind, data: Uint8Array, limits: OfficeLimits): string {
  // An encrypted OOXML file is an OLE compound file holding the encrypted package, not a ZIP.
  if (data.length >= 8 && data[0] === 0xd0 && data[1] === 0xcf && data[2] === 0x11 && data[3] === 0xe0) {
    throw new ZipError("encrypted", "an encrypted (password-protected) Office document");
  }
  const layout = LAYOUTS[kind];
  const entries = zipEntries(data);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const budget: InflateBudget = { remaining: limits.maxInflatedBytes };
  const out = { text: [] as string[], chars: 0 };
  const decoder = new TextDecoder("utf-8", { fatal: false });
  const names = layout.parts([...byName.keys()]);
  if (names.length === 0) throw new ZipError("corrupt", `no ${kind} text part in the archive`);
  for (const name of names) {
    limits.checkTime();
    const entry = byName.get(name);
    if (entry === undefined || out.chars >= limits.maxChars) continue;
    partText(decoder.decode(readEntry(data, entry, budget)), layout, out, limits.maxChars);
  }
  return out.text
    .join("")
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{2,}/g, "\n")
    .trim();
}
