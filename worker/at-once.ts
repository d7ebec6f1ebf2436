// Fan-out with a bound: calls to many objects or channels from one invocation, a few at a time, so
// none waits behind a slow one and the platform's connections are never all taken at once.

/** Runs `each` over `items`, at most `atOnce` at a time, each picked up as a slot frees; `each` handles its own errors. */
export async function forEachAtMost<T>(
  items: readonly T[],
  atOnce: number,
  each: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const slot = async () => {
    for (let i = next++; i < items.length; i = next++) await each(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, items.length) }, slot));
}
