// ical.js and timezones-ical-library, loaded on first use rather than at start-up: a gateway whose
// users never read a calendar or an address book does not keep them (about 1 MiB of heap; ADR 0025).
// Node loads them synchronously (require of an ES module), so the calendar and contacts helpers stay
// synchronous and use `ICAL` as they would the default import.
import { createRequire } from "node:module";
import type IcalModule from "ical.js";
import type * as TimezoneLibrary from "timezones-ical-library";

type Ical = typeof IcalModule;

const require = createRequire(import.meta.url);
let ical: Ical | undefined;
let zones: typeof TimezoneLibrary | undefined;

function loadIcal(): Ical {
  // The package's ES module build (dist/ical.js), the one `import ICAL from "ical.js"` loads;
  // `require("ical.js")` would give its separate ES5 build.
  ical ??= (require(require.resolve("ical.js").replace(/ical\.es5\.cjs$/, "ical.js")) as { default: Ical })
    .default;
  return ical;
}

/** ical.js's default export; the module loads on the first property read. */
export const ICAL: Ical = new Proxy({} as Ical, {
  get: (_target, key) => Reflect.get(loadIcal(), key) as unknown,
  set: (_target, key, value) => Reflect.set(loadIcal(), key, value),
  has: (_target, key) => Reflect.has(loadIcal(), key),
});

/** timezones-ical-library, loaded on the first call. */
export function timezoneLibrary(): typeof TimezoneLibrary {
  zones ??= require("timezones-ical-library") as typeof TimezoneLibrary;
  return zones;
}
