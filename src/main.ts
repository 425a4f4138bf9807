#!/usr/bin/env node
// Process entry. Loading the gateway's modules takes about half of its start-up; before that, for
// `serve` on the embedded database (no DATABASE_URL), PGlite's module and file-system bundle start
// loading and compiling off the main thread (store/pglite-preload.ts). Then the command line
// (cli/main.ts) runs. The only module with side effects at import time.
import { preloadPglite } from "./store/pglite-preload.ts";

const env = process.env;
if (process.argv[2] === "serve" && !env.DATABASE_URL && !env.DATABASE_URL_FILE) preloadPglite();
await import("./cli/main.ts");
