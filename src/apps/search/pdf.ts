// The text of a PDF through PDF.js (the build that unpdf ships for servers: no worker thread, no
// canvas, no native code). PDF.js is about 1.7 MB of JavaScript: it is imported on the first PDF, so
// a gateway that indexes none never loads it. Pages are read one at a time, the time and the text
// bound checked between them; on any stop the document is destroyed.
import type { getResolvedPDFJS } from "unpdf";

type LoadingTask = ReturnType<Awaited<ReturnType<typeof getResolvedPDFJS>>["getDocument"]>;

/** Why a PDF gave no text. */
export class PdfError extends Error {
  readonly reason: "corrupt" | "encrypted" | "timeout";
  constructor(reason: PdfError["reason"], message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PdfError";
    this.reason = reason;
  }
}

export interface PdfLimits {
  maxChars: number;
  /** When the document's time is up (ms since the epoch). */
  deadline: number;
}

/** Rejects at `deadline` (the timer does not keep the process alive). */
function timeUp(deadline: number): { promise: Promise<never>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        reject(new PdfError("timeout", "the PDF took longer than its time bound"));
      },
      Math.max(0, deadline - Date.now()),
    );
    timer.unref();
  });
  return {
    promise,
    clear: () => {
      clearTimeout(timer);
    },
  };
}

/** @throws PdfError. */
export async function pdfText(data: Uint8Array, limits: PdfLimits): Promise<string> {
  const { getResolvedPDFJS: resolve } = await import("unpdf");
  const { getDocument } = await resolve();
  const timer = timeUp(limits.deadline);
  let task: LoadingTask | undefined;
  try {
    task = getDocument({
      // PDF.js may take the buffer over; the caller's stays intact.
      data: data.slice(),
      // Text only: no font faces, no WebAssembly image decoders, no system fonts.
      useSystemFonts: false,
      disableFontFace: true,
      useWasm: false,
      stopAtErrors: false,
      verbosity: 0,
    });
    const pdf = await Promise.race([task.promise, timer.promise]);
    const parts: string[] = [];
    let chars = 0;
    for (let n = 1; n <= pdf.numPages && chars < limits.maxChars; n++) {
      if (Date.now() > limits.deadline)
        throw new PdfError("timeout", "the PDF took longer than its time bound");
      const page = await Promise.race([pdf.getPage(n), timer.promise]);
      const content = await Promise.race([page.getTextContent(), timer.promise]);
      for (const item of content.items) {
        if (!("str" in item)) continue;
        const s = item.hasEOL ? `${item.str}\n` : item.str;
        parts.push(s);
        chars += s.length;
      }
      parts.push("\n");
      page.cleanup();
    }
    return parts.join("").slice(0, limits.maxChars).trim();
  } catch (err) {
    if (err instanceof PdfError) throw err;
    const name = (err as { name?: unknown }).name;
    if (name === "PasswordException")
      throw new PdfError("encrypted", "the PDF needs a password", { cause: err });
    throw new PdfError("corrupt", `the PDF cannot be read: ${(err as Error).message}`, { cause: err });
  } finally {
    timer.clear();
    await task?.destroy();
  }
}
