import { Hono } from "hono";
import { requestId } from "hono/request-id";
import type { Config } from "./config/index.ts";
import { describeError } from "./errors.ts";
import { healthz, readyz, type ReadinessProbes } from "./http/health.ts";
import type { AppEnv } from "./http/env.ts";
import { requestLog } from "./http/middleware/request-log.ts";
import type { Logger } from "./log.ts";

/** Everything the HTTP app needs, built by main.ts (or a test). */
export interface AppDeps {
  config: Config;
  log: Logger;
  readiness: ReadinessProbes;
}

/** The Hono app and its whole route table. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId({ limitLength: 128 }));
  app.use(requestLog(deps.log));

  app.get("/healthz", healthz);
  app.get("/readyz", readyz(deps.readiness));

  app.notFound((c) =>
    c.json({ error: "not_found", error_description: `No route for ${c.req.method} ${c.req.path}` }, 404),
  );
  app.onError((err, c) => {
    c.get("log").error({ err: describeError(err) }, "unhandled error");
    return c.json(
      { error: "server_error", error_description: "Internal error; see the gateway log for the request id." },
      500,
    );
  });
  return app;
}
