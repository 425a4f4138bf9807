// What tools/list costs a model's context: tools, bytes and tokens of the list a client receives,
// for the default toolset (MCP_DEFAULT_APPS, every app usable, both scopes), for every tool, and per
// app. Tokens are counted with the o200k_base BPE (gpt-tokenizer); other models' tokenizers differ
// by some ten per cent, so the budget (DESIGN §8: default list ≤ 8,000 tokens) keeps a margin.
import { countTokens } from "gpt-tokenizer";
import { buildRegistry } from "../src/app.ts";
import { loadConfig } from "../src/config/index.ts";
import type { ToolRegistry } from "../src/mcp/index.ts";
import { metric, type Metric, type SectionResult } from "./report.ts";

/** The budget for the default toolset's tools/list, in tokens. */
export const TOOL_LIST_TOKEN_BUDGET = 8000;
const SCOPES = ["mcp:tools", "mcp:write"];

function listed(registry: ToolRegistry, apps: ReadonlySet<string> | "all") {
  const tools = registry.visible({ scopes: SCOPES, capabilities: "all", apps });
  const json = JSON.stringify({ tools: tools.map((t) => registry.listing(t.name)) });
  return { tools: tools.length, bytes: Buffer.byteLength(json), tokens: countTokens(json) };
}

/** Measures the lists; `env` may set MCP_DEFAULT_APPS, TOOLS_ALLOW, TOOLS_DENY as an operator would. */
export function runToolListSize(
  env: Record<string, string | undefined> = process.env,
): Promise<SectionResult> {
  const config = loadConfig({
    GATEWAY_PUBLIC_URL: "https://mcp.example.com",
    OIDC_ISSUER: "https://sso.example.com/realms/nextcloud-mcp",
    OIDC_CLIENT_SECRET: "bench",
    MCP_DEFAULT_APPS: env.MCP_DEFAULT_APPS,
    TOOLS_ALLOW: env.TOOLS_ALLOW,
    TOOLS_DENY: env.TOOLS_DENY,
  });
  const registry = buildRegistry(config);
  const defaults = config.tools.defaultApps === "all" ? "all" : new Set(config.tools.defaultApps);
  const metrics: Metric[] = [];
  const add = (id: string, label: string, m: ReturnType<typeof listed>, budget: boolean) => {
    metrics.push(
      metric(`${id}.tools`, `${label}: tools`, m.tools, "tools"),
      metric(`${id}.bytes`, `${label}: bytes`, m.bytes, "B"),
      metric(
        `${id}.tokens`,
        `${label}: tokens (o200k)`,
        m.tokens,
        "tokens",
        budget ? { op: "<=", value: TOOL_LIST_TOKEN_BUDGET } : undefined,
      ),
    );
  };
  add(
    "default",
    `default set (${defaults === "all" ? "all apps" : [...defaults].join(",")})`,
    listed(registry, defaults),
    true,
  );
  add("all", "all tools", listed(registry, "all"), false);
  for (const g of registry.groups().filter((x) => x.always !== true)) {
    add(`app.${g.id}`, `?apps=${g.id}`, listed(registry, new Set([g.id])), false);
  }
  return Promise.resolve({
    metrics,
    notes: [
      "The JSON of the tools/list result a client with mcp:tools mcp:write receives when every app is usable; the gateway's own tools are in every set.",
      "Tokens: o200k_base (gpt-tokenizer), an estimate for other models' tokenizers.",
    ],
    failures: [],
  });
}
