// What the Nextcloud transport tests share.
import { NextcloudError } from "../../../src/nextcloud/index.ts";

/** The NextcloudError a promise rejects with (fails on any other outcome). */
export async function failure(p: Promise<unknown>): Promise<NextcloudError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof NextcloudError) return err;
    throw err;
  }
  throw new Error("expected a NextcloudError");
}
