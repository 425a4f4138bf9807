// Text of PDF and Office documents for the content index, and its bounds: the words a reader sees
// come out (split runs joined, entities resolved, paragraphs on lines of their own, slides in
// order); the text is cut at its bound; a zip bomb, a lying archive, an encrypted or corrupt file,
// and a file past its time give a reason instead of text, never an exception.
import { describe, expect, it } from "vitest";
import {
  documentKind,
  extractLimits,
  extractText,
  type DocumentKind,
  type Extracted,
} from "../../../../src/apps/search/extract.ts";
import { decodeXmlText } from "../../../../src/apps/search/office.ts";
import { docx, encryptedOffice, odf, pdf, pptx, xlsx, zip, zipBomb } from "../../../fixtures/documents.ts";

const LIMITS = { ...extractLimits(64 * 1024), maxInflatedBytes: 1024 * 1024 };

const text = async (kind: DocumentKind, data: Uint8Array, limits = LIMITS) => {
  const r = await extractText(kind, data, limits);
  expect(r.ok, JSON.stringify(r)).toBe(true);
  return (r as Extract<Extracted, { ok: true }>).text;
};

const failure = async (kind: DocumentKind, data: Uint8Array, limits = LIMITS) => {
  const r = await extractText(kind, data, limits);
  expect(r.ok).toBe(false);
  return (r as Extract<Extracted, { ok: false }>).reason;
};

describe("which files are documents", () => {
  it("knows PDF, OOXML and OpenDocument by extension, in any case", () => {
    expect(documentKind("Report.PDF")).toBe("pdf");
    expect(documentKind("a.b.docx")).toBe("docx");
    for (const k of ["xlsx", "pptx", "odt", "ods", "odp"]) expect(documentKind(`x.${k}`)).toBe(k);
    for (const n of ["notes.md", "old.doc", "docx", "archive.zip", "pdf."])
      expect(documentKind(n)).toBeUndefined();
  });
});

describe("the text of a document", () => {
  it("reads every page of a PDF", async () => {
    expect(await text("pdf", pdf(["Hello pelican (world)", "Second page: a quokka"]))).toBe(
      "Hello pelican (world)\nSecond page: a quokka",
    );
  });

  it("reads a .docx, joining the runs Word splits words into, one line per paragraph", async () => {
    expect(await text("docx", docx(["We decided on the albatross.", "Fish & <chips>"]))).toBe(
      "We decided on the albatross.\nFish & <chips>",
    );
  });

  it("reads an .xlsx's strings (shared and inline), not its numbers", async () => {
    const t = await text("xlsx", xlsx(["Budget line", "Travel costs"]));
    expect(t).toBe("Budget line\nTravel costs\ninline cell");
    expect(t).not.toContain("4217");
  });

  it("reads a .pptx's slides in their order, slide 10 after slide 2", async () => {
    const slides = Array.from({ length: 11 }, (_, i) => `slide number ${String(i + 1)}`);
    expect((await text("pptx", pptx(slides))).split("\n")).toEqual(slides);
  });

  it("reads OpenDocument text, spreadsheets and presentations from content.xml", async () => {
    for (const [kind, type] of [
      ["odt", "text"],
      ["ods", "spreadsheet"],
      ["odp", "presentation"],
    ] as const) {
      expect(
        await text(kind, odf(`application/vnd.oasis.opendocument.${type}`, ["An okapi", "second"])),
      ).toBe("An okapi\nsecond");
    }
  });

  it("resolves XML entity and character references, dropping ones that name no character", () => {
    expect(decodeXmlText("a &amp; b &lt;&gt; &quot;&apos; &#233;&#x20AC; &#0; &unknown;")).toBe(
      "a & b <> \"' é€  &unknown;",
    );
  });
});

describe("bounds", () => {
  it("cuts the text at its bound", async () => {
    const paragraphs = Array.from({ length: 40 }, (_, i) => `paragraph ${String(i)} of the long one`);
    for (const [kind, data] of [
      ["docx", docx(paragraphs)],
      ["pdf", pdf(paragraphs)],
    ] as const) {
      const whole = await text(kind, data);
      expect(whole.length).toBeGreaterThan(1000);
      expect(await text(kind, data, { ...LIMITS, maxChars: 100 })).toBe(whole.slice(0, 100).trim());
    }
  });

  it("stops a zip bomb at the inflate bound, whether its archive tells the size or lies about it", async () => {
    const bomb = zipBomb(8 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(await failure("docx", bomb)).toBe("too_large");
    expect(await failure("docx", zipBomb(8 * 1024 * 1024, 1000))).toBe("too_large");
    // The bound is on all parts together.
    const parts = ["a", "b", "c"].map((n) => ({
      name: `ppt/slides/slide${n === "a" ? 1 : n === "b" ? 2 : 3}.xml`,
      data: "x".repeat(400_000),
    }));
    expect(await failure("pptx", zip(parts))).toBe("too_large");
    expect(await text("pptx", zip(parts.slice(0, 2)))).toBe("");
  });

  it("reads hostile XML in one pass: unterminated tags, comments and sections end the part", async () => {
    const doc = (body: string) =>
      zip([
        {
          name: "word/document.xml",
          // What follows the paragraph ends the part: nothing closes it.
          data: `<w:document><w:body><w:p><w:r><w:t>kept</w:t></w:r></w:p>${body}`,
        },
      ]);
    // Each would take hours if every "<" started a scan to the end of the part.
    for (const body of ["<a".repeat(200_000), "<!--".repeat(200_000), "<![CDATA[".repeat(100_000)]) {
      expect(await text("docx", doc(body))).toBe("kept");
    }
    expect(
      await text(
        "docx",
        doc("<w:p><w:r><w:t><![CDATA[raw <b>]]> &amp; more</w:t></w:r></w:p><!-- <w:t>no</w:t> -->"),
      ),
    ).toBe("kept\nraw <b> & more");
  });

  it("says a file past its time ran out of time", async () => {
    expect(await failure("docx", docx(["late"]), { ...LIMITS, timeoutMs: -1 })).toBe("timeout");
    expect(await failure("pdf", pdf(["late"]), { ...LIMITS, timeoutMs: -1 })).toBe("timeout");
  });

  it("says an encrypted document is encrypted", async () => {
    expect(await failure("pdf", pdf(["secret"], { encrypted: true }))).toBe("encrypted");
    expect(await failure("docx", encryptedOffice())).toBe("encrypted");
  });

  it("says a corrupt or truncated document is corrupt, and a document without its text part too", async () => {
    const whole = pdf(["Hello pelican"]);
    for (const [kind, data] of [
      ["pdf", new TextEncoder().encode("%PDF-1.4\nnot really")],
      ["pdf", whole.slice(0, 200)],
      ["pdf", new Uint8Array(0)],
      ["docx", docx(["x"]).slice(0, 300)],
      ["docx", new Uint8Array([80, 75, 5, 6])],
      ["xlsx", docx(["a word document named .xlsx"])],
      ["odt", pdf(["a PDF named .odt"])],
    ] as const) {
      expect(await failure(kind, data), `${kind} ${String(data.length)}`).toBe("corrupt");
    }
  });
});
