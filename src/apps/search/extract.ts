// Text of documents for the content index: PDF (PDF.js, imported on the first PDF) and the Office
// formats (OOXML .docx/.xlsx/.pptx, OpenDocument .odt/.ods/.odp; read with node:zlib). Bounded:
// the caller reads at most SEARCH_INDEX_MAX_FILE_BYTES; here, the text kept, the bytes inflated
// from an archive (zip bombs) and the time per file. A document that cannot be read (corrupt,
// encrypted, a bomb, too slow) gives a reason instead of text, never an exception: the file is then
// indexed by its name. See docs/adr/0019-document-text-extraction-and-name-similarity.md.
import { officeText, type OfficeKind } from "./office.ts";
import { PdfError, pdfText } from "./pdf.ts";
import { ZipError } from "./zip.ts";

export type DocumentKind = "pdf" | OfficeKind;

const BY_EXTENSION: Record<string, DocumentKind> = {
  pdf: "pdf",
  docx: "docx",
  xlsx: "xlsx",
  pptx: "pptx",
  odt: "odt",
  ods: "ods",
  odp: "odp",
};

/** Which document a file is by its name (Nextcloud's content type follows the extension too). */
export function documentKind(name: string): DocumentKind | undefined {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? undefined : BY_EXTENSION[name.slice(dot + 1).toLowerCase()];
}

export interface ExtractLimits {
  /** Characters of text kept (the rest is cut). */
  maxChars: number;
  /** Bytes inflated from an archive, all parts together; past it, the file is a zip bomb. */
  maxInflatedBytes: number;
  /** Time for one file. */
  timeoutMs: number;
}

/** Defaults for a byte bound on the file: text as long as a text file may be, 32× the file inflated. */
export function extractLimits(maxFileBytes: number): ExtractLimits {
  return {
    maxChars: maxFileBytes,
    maxInflatedBytes: Math.min(32 * maxFileBytes, 256 * 1024 * 1024),
    timeoutMs: 10_000,
  };
}

/** Why a document gave no text. */
export type ExtractFailure = "corrupt" | "encrypted" | "too_large" | "timeout";

export type Extracted = { ok: true; text: string } | { ok: false; reason: ExtractFailure; detail: string };

class TimeUp extends Error {}

/** The text of a document, or why there is none; never throws for what the file holds. */
export async function extractText(
  kind: DocumentKind,
  data: Uint8Array,
  limits: ExtractLimits,
): Promise<Extracted> {
  const deadline = Date.now() + limits.timeoutMs;
  try {
    if (kind === "pdf") {
      return { ok: true, text: await pdfText(data, { maxChars: limits.maxChars, deadline }) };
    }
    const text = officeText(kind, data, {
      maxChars: limits.maxChars,
      maxInflatedBytes: limits.maxInflatedBytes,
      checkTime: () => {
        if (Date.now() > deadline) throw new TimeUp("the document took longer than its time bound");
      },
    });
    return { ok: true, text };
  } catch (err) {
    if (err instanceof ZipError || err instanceof PdfError) {
      return { ok: false, reason: err.reason, detail: err.message };
    }
    if (err instanceof TimeUp) return { ok: false, reason: "timeout", detail: err.message };
    // A parser's own failure on what the file holds (e.g. a RangeError on a truncated structure).
    return { ok: false, reason: "corrupt", detail: (err as Error).message };
  }
}
