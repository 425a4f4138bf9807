// The production build (`npm run build`, the image's build stage): src/main.ts and the libraries it
// imports bundled into dist/, tree-shaken and minified, so that the process parses and keeps in its
// heap about a quarter of the JavaScript it would load from src/ and node_modules/ file by file
// (ADR 0028). Function and class names are kept (errors and logs name them). The libraries that
// read files beside their own code stay in node_modules/ and are loaded from there, on first use:
// PGlite (its WebAssembly and data files), unpdf (pdf.js), ical.js and fast-xml-parser (loaded lazily
// with createRequire). Tests and `npm start` run src/ directly; test/integration/cli/dist.test.ts
// runs the build.
import { defineConfig } from "rolldown";

/** Libraries left out of the bundle, resolved from node_modules/ at run time. */
export const EXTERNAL = ["@electric-sql/pglite", "unpdf", "ical.js", "fast-xml-parser"];

export default defineConfig({
  input: "src/main.ts",
  platform: "node",
  external: (id) => EXTERNAL.some((name) => id === name || id.startsWith(`${name}/`)),
  output: {
    dir: "dist",
    cleanDir: true,
    format: "esm",
    entryFileNames: "[name].js",
    chunkFileNames: "[name]-[hash].js",
    sourcemap: true,
    minify: {
      compress: true,
      mangle: { keepNames: { function: true, class: true } },
      codegen: { removeWhitespace: true },
    },
  },
});
