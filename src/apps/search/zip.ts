// Reads named parts of a ZIP archive (the container of OOXML and OpenDocument files) from the
// central directory, inflating each with node:zlib under one budget of output bytes: a part that
// would inflate past the budget stops the inflater there (a zip bomb costs the budget, not the
// memory it claims). Only what these documents use: one disk, no ZIP64, stored or deflated parts,
// no encryption. @see https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT §4.3
import { inflateRawSync } from "node:zlib";

/** Why an archive could not be read. */
export class ZipError extends Error {
  readonly reason: "corrupt" | "encrypted" | "too_large";
  constructor(reason: ZipError["reason"], message: string) {
    super(message);
    this.name = "ZipError";
    this.reason = reason;
  }
}

/** One part of the archive as the central directory describes it. */
export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  /** As the archive claims it; the budget is enforced on what inflating produces. */
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The central directory's entries. @throws ZipError "corrupt" when the archive is not one this reads. */
export function zipEntries(data: Uint8Array): ZipEntry[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let eocd = -1;
  // The end record is the last 22 bytes plus a comment of at most 65,535 bytes.
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError("corrupt", "not a ZIP archive (no end of central directory)");
  const count = view.getUint16(eocd + 10, true);
  const size = view.getUint32(eocd + 12, true);
  const offset = view.getUint32(eocd + 16, true);
  if (view.getUint16(eocd + 4, true) !== 0 || count === 0xffff || offset === 0xffffffff) {
    throw new ZipError("corrupt", "multi-disk and ZIP64 archives are not read");
  }
  if (offset + size > eocd) throw new ZipError("corrupt", "central directory outside the archive");
  const entries: ZipEntry[] = [];
  const decoder = new TextDecoder("utf-8", { fatal: false });
  let at = offset;
  for (let n = 0; n < count; n++) {
    if (at + 46 > eocd || view.getUint32(at, true) !== CENTRAL) {
      throw new ZipError("corrupt", "central directory entry broken");
    }
    const nameLength = view.getUint16(at + 28, true);
    const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    if (at + 46 + skip > eocd) throw new ZipError("corrupt", "central directory entry broken");
    entries.push({
      name: decoder.decode(data.subarray(at + 46, at + 46 + nameLength)),
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    });
    at += 46 + skip;
  }
  return entries;
}

/** A budget of inflated bytes shared by the parts read from one archive. */
export interface InflateBudget {
  remaining: number;
}

/**
 * The bytes of one part, charged to `budget`.
 * @throws ZipError "too_large" past the budget, "encrypted" for an encrypted part, "corrupt" else.
 */
export function readEntry(data: Uint8Array, entry: ZipEntry, budget: InflateBudget): Uint8Array {
  if ((entry.flags & 1) !== 0) throw new ZipError("encrypted", `${entry.name} is encrypted`);
  if (entry.size > budget.remaining) {
    throw new ZipError("too_large", `${entry.name} claims ${String(entry.size)} bytes, past the bound`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const at = entry.localOffset;
  if (at + 30 > data.length || view.getUint32(at, true) !== LOCAL) {
    throw new ZipError("corrupt", `${entry.name}: local header missing`);
  }
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > data.length) throw new ZipError("corrupt", `${entry.name}: data past the end of the archive`);
  const raw = data.subarray(start, end);
  let out: Uint8Array;
  if (entry.method === 0) {
    out = raw;
  } else if (entry.method === 8) {
    try {
      // One byte more than the budget: an output that reaches it is past the bound.
      out = inflateRawSync(raw, { maxOutputLength: budget.remaining + 1 });
    } catch (err) {
      if (err instanceof RangeError) {
        throw new ZipError("too_large", `${entry.name} inflates past the bound`);
      }
      throw new ZipError("corrupt", `${entry.name}: ${(err as Error).message}`);
    }
  } else {
    throw new ZipError("corrupt", `${entry.name}: compression method ${String(entry.method)} is not read`);
  }
  if (out.length > budget.remaining) throw new ZipError("too_large", `${entry.name} inflates past the bound`);
  budget.remaining -= out.length;
  return out;
}
