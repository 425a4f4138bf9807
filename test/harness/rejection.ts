// The error a promise must reject with, for tests that go on to assert what it says.

/** The `Kind` error `promise` rejects with; rethrows any other error, and fails if it resolves. */
export async function rejectionOf<E extends Error>(
  Kind: abstract new (...args: never[]) => E,
  promise: Promise<unknown>,
): Promise<E> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Kind) return err;
    throw err;
  }
  throw new Error(`expected a ${Kind.name}, but the promise resolved`);
}
