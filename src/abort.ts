/**
 * Resolves or rejects like `promise`, but rejects with the signal's reason as soon as `signal`
 * aborts: the caller stops waiting while the work itself runs on (for calls that take no signal).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      signal.removeEventListener("abort", onAbort);
    });
  });
}

/**
 * Runs `work` with a signal that aborts when any of `signals` does, then detaches from them. Unlike
 * `AbortSignal.any`, which holds the combined signal through weak references and a finalization
 * registry (so that it outlives the work until a collection), the listeners go when the work ends:
 * on a request's path this keeps per-request objects out of the old generation.
 */
export async function withEitherSignal<T>(
  signals: readonly AbortSignal[],
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const aborted = signals.find((s) => s.aborted);
  if (aborted !== undefined) {
    controller.abort(aborted.reason);
    return work(controller.signal);
  }
  const listeners = signals.map((s) => {
    const onAbort = () => {
      controller.abort(s.reason);
    };
    s.addEventListener("abort", onAbort, { once: true });
    return () => {
      s.removeEventListener("abort", onAbort);
    };
  });
  try {
    return await work(controller.signal);
  } finally {
    for (const detach of listeners) detach();
  }
}
