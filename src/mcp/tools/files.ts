// Files tools (WebDAV).
import type { AnyToolDefinition } from "../registry.ts";

/** The files tools, in the order tools/list shows them. */
export const filesTools: readonly AnyToolDefinition[] = [];
