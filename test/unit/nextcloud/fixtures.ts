// What the Nextcloud transport tests share.
import { NextcloudError } from "../../../src/nextcloud/index.ts";
import { rejectionOf } from "../../harness/rejection.ts";

/** The NextcloudError a promise rejects with (fails on any other outcome). */
export function failure(p: Promise<unknown>): Promise<NextcloudError> {
  return rejectionOf(NextcloudError, p);
}
