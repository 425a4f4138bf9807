// Tables (nextcloud/tables): the user's tables and views, a table's columns, rows read, inserted,
// changed and deleted by column title. This folder owns the Tables API client (OCS API v2 where it
// exists, API v1 for reading, changing and deleting rows), the value checks per column type and the tools.
import { defineGroup } from "../../mcp/index.ts";
import { tablesGetSchema, tablesList, tablesReadRows } from "./read.ts";
import { tablesCreate, tablesDeleteRow, tablesSaveRow } from "./write.ts";

/** The Tables tools: there when the user's capabilities say Tables is enabled for them. */
export const tablesGroup = defineGroup({
  id: "tables",
  title: "Tables",
  description:
    "List tables and views, read a table's columns and rows (paged, filtered), insert, change and delete rows by column title, create tables (Nextcloud Tables).",
  available: async (nextcloud) => {
    const tables = (await nextcloud.capabilities()).raw.tables as { enabled?: unknown } | undefined;
    return tables?.enabled === true;
  },
  tools: [tablesList, tablesGetSchema, tablesReadRows, tablesSaveRow, tablesDeleteRow, tablesCreate],
});
