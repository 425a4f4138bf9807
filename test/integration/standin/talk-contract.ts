// The contract of Talk (spreed.openapi.json in test/fixtures) as an ajv validator, with the two
// artefacts of the spec's generator corrected so that Talk's real answers can conform:
// - `nullable: true` without a `type` (OpenAPI 3.0's keyword, which ajv refuses without `type`, e.g.
//   `{ "nullable": true }` or a nullable `$ref`) becomes "that schema, or null";
// - `messageParameters` is `array<string, array<string, mixed>>` in Talk, which the generator wrote
//   as objects of objects of objects; Talk sends rich-object parameters whose fields are strings
//   (`{type, id, name, …}`, OCP\RichObjectStrings), so that is what is checked.
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";

type Json = Record<string, unknown>;

function patch(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(patch);
  if (node === null || typeof node !== "object") return node;
  const o = node as Json;
  const out = Object.fromEntries(Object.entries(o).map(([k, v]) => [k, patch(v)]));
  if (o.nullable !== true || o.type !== undefined) return out;
  delete out.nullable;
  return Object.keys(out).length === 0 ? {} : { anyOf: [out, { type: "null" }] };
}

const RICH_OBJECT = {
  type: "object",
  required: ["type", "id", "name"],
  additionalProperties: { type: "string" },
};

/** Validates a body against a response of spreed.openapi.json (path without the `/ocs/v2.php/apps/spreed/api/{apiVersion}` prefix). */
export function talkContract(): {
  validate: (path: string, method: string, status: number, body: unknown) => string[];
  component: (name: string, body: unknown) => string[];
} {
  const url = new URL("../../fixtures/nextcloud-openapi/spreed.openapi.json", import.meta.url);
  const spec = patch(JSON.parse(readFileSync(url, "utf8"))) as Json;
  const schemas = (spec.components as { schemas: Record<string, { properties: Json }> }).schemas;
  const base = schemas.BaseMessage;
  if (base === undefined) throw new Error("spreed.openapi.json has no BaseMessage");
  base.properties.messageParameters = { type: "object", additionalProperties: RICH_OBJECT };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  for (const f of ["int64", "float", "double", "int32"]) ajv.addFormat(f, true);
  ajv.addSchema({ ...spec, $id: "https://nextcloud.invalid/spreed" });
  const escape = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");
  const check = (ref: string, body: unknown) => {
    const v = ajv.compile({ $ref: ref });
    return v(body) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
  };
  const prefix = "/ocs/v2.php/apps/spreed/api/{apiVersion}";
  return {
    validate: (path, method, status, body) =>
      check(
        `https://nextcloud.invalid/spreed#/paths/${escape(prefix + path)}/${method}/responses/${String(status)}/content/${escape("application/json")}/schema`,
        body,
      ),
    component: (name, body) =>
      check(`https://nextcloud.invalid/spreed#/components/schemas/${escape(name)}`, body),
  };
}
