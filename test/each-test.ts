/** Test lifecycle helpers shared by the cloud, device and end-to-end tests (vitest only: benches do not load it). */
import { afterEach, beforeEach } from "vitest";

/**
 * A fresh cloud (or anything else that closes) for each test of the enclosing describe: made before the
 * test, closed after it; `use` hands each new one to the tests' variable.
 */
export function freshEachTest<T extends { close(): Promise<void> }>(
  make: () => Promise<T>,
  use: (made: T) => void,
): void {
  let current: T | undefined;
  beforeEach(async () => {
    current = await make();
    use(current);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
}
