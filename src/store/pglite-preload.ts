// Starts PGlite's slow, independent work (reading its 9 MB WebAssembly module and 6 MB file-system
// bundle, and compiling the module, which V8 does on background threads) while the rest of the
// gateway's modules load on the main thread; `openPgliteStore` then uses the result. Imports only
// node: modules, so that the process entry can call it before importing anything else.
import { readFile } from "node:fs/promises";
import { setFlagsFromString } from "node:v8";
/** A compiled `WebAssembly.Module`, opaque here (the project's type libraries do not declare it). */
type WasmModule = object;
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } })
  .WebAssembly;

/** What `PGlite.create` accepts instead of loading them itself. */
export interface PglitePreloaded {
  readonly pgliteWasmModule: WasmModule;
  readonly fsBundle: Blob;
}

let preloaded: Promise<PglitePreloaded | undefined> | undefined;
let wasmTieringOff = false;

/**
 * V8 compiles PGlite's 9 MB WebAssembly module with its baseline compiler (Liftoff), then recompiles
 * hot functions with its optimising one (TurboFan) in the background; those recompilations of
 * PostgreSQL's large functions took the process from about 150 MiB to 450–600 MiB resident, and
 * the memory stayed. Baseline code is plenty for the gateway's few small queries. The flags apply to
 * WebAssembly compiled after this call, not to JavaScript. Called once, before the first PGlite
 * module compiles, best before any other WebAssembly compiles: with the IdP's discovery fetched
 * while PGlite opened (undici's HTTP parser is WebAssembly too), the process kept about 12 MiB more.
 */
export function turnOffWasmTierUp(): void {
  if (wasmTieringOff) return;
  wasmTieringOff = true;
  setFlagsFromString("--no-wasm-tier-up");
  setFlagsFromString("--no-wasm-dynamic-tiering");
}

/** Starts loading PGlite's module and bundle (once); a failure only means PGlite loads them itself. */
export function preloadPglite(): void {
  turnOffWasmTierUp();
  preloaded ??= (async () => {
    const dist = new URL("./", import.meta.resolve("@electric-sql/pglite"));
    const [bytes, bundle] = await Promise.all([
      readFile(new URL("pglite.wasm", dist)),
      readFile(new URL("pglite.data", dist)),
    ]);
    // PGlite reads the bundle with `arrayBuffer()` only: handing it the buffer read avoids a Blob's copy.
    const data = bundle.buffer.slice(bundle.byteOffset, bundle.byteOffset + bundle.byteLength);
    const fsBundle = { arrayBuffer: () => Promise.resolve(data) } as unknown as Blob;
    return { pgliteWasmModule: await wasm.compile(bytes), fsBundle };
  })().catch(() => undefined);
}

/** The preloaded module and bundle, if `preloadPglite` was called and they loaded. */
export function takePreloadedPglite(): Promise<PglitePreloaded | undefined> {
  const result = preloaded ?? Promise.resolve(undefined);
  // Once taken, the bundle and module belong to that PGlite; a second store loads its own.
  preloaded = undefined;
  return result;
}
