// The Nextcloud apps the stand-in serves through the app extension point (types.ts), in order.
// One line per app; each app lives in its own file of this folder.
import { tablesApp } from "./tables.ts";
import { talkApp } from "./talk.ts";
import { sharingApp } from "./sharing.ts";
import { deckApp } from "./deck.ts";
import type { StandinAppFactory } from "./types.ts";
import { unifiedSearch } from "./unified-search.ts";

export const APP_FACTORIES: readonly StandinAppFactory[] = [
  unifiedSearch,
  tablesApp,
  talkApp,
  sharingApp,
  deckApp,
];
