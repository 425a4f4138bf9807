// The Nextcloud apps the stand-in serves through the app extension point (types.ts), in order.
// One line per app; each app lives in its own file of this folder.
import { deckApp } from "./deck.ts";
import type { StandinAppFactory } from "./types.ts";

export const APP_FACTORIES: readonly StandinAppFactory[] = [deckApp];
