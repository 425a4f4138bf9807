// Lint rules that matter in a server: type-aware checks for promises, type imports, no console in src.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import globals from "globals";
import tseslint from "typescript-eslint";

/** Files matching `files` may not import from these src/ folders (nor Hono, when `noHono`). */
function layer(files, folders, noHono) {
  const patterns = folders.map((f) => ({
    group: [`**/${f}/*`, `../${f}`, `./${f}`],
    message: `${files.replace("/**/*.ts", "")} must not import src/${f}: see the import direction in CONTRIBUTING.md.`,
  }));
  const paths = noHono ? [{ name: "hono", message: "Only src/http, src/web and app.ts use Hono." }] : [];
  return [{ files: [files], rules: { "no-restricted-imports": ["error", { patterns, paths }] } }];
}

export default tseslint.config(
  {
    ignores: [
      "dist/",
      ".data/",
      "node_modules/",
      "coverage/",
      "bench/results/",
      "reliability/results/",
      ".stryker-tmp/",
      "reports/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-unnecessary-condition": ["error", { allowConstantLoopConditions: true }],
    },
  },
  { files: ["src/**/*.ts"], rules: { "no-console": "error" } },
  // The dependency direction of CONTRIBUTING.md ("Layout and import direction"), checked: the
  // composition root (app.ts, main.ts, cli/) wires the parts; no part reaches back up.
  ...layer("src/{auth,idp,store,tokens,config}/**/*.ts", ["http", "web", "jobs", "mcp", "apps", "cli"], true),
  ...layer(
    "src/nextcloud/**/*.ts",
    ["http", "web", "jobs", "mcp", "apps", "cli", "store", "idp", "tokens"],
    true,
  ),
  ...layer("src/mcp/**/*.ts", ["http", "web", "jobs", "apps", "cli"], true),
  ...layer("src/apps/**/*.ts", ["http", "web", "jobs", "cli", "store", "idp", "tokens"], true),
  ...layer("src/jobs/**/*.ts", ["http", "web", "mcp", "apps", "cli"], true),
  ...layer("src/{http,web}/**/*.ts", ["cli", "apps"], false),
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
  prettier,
);
