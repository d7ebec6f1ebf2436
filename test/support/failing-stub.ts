// Durable Object calls that fail at the caller's stub, as a call to an object reset or moved under it
// does. Failed there, not inside the object: an exception thrown inside it would be logged by the
// runtime as uncaught. For workerd tests (test/worker) and the simulator (test/sim).

type Namespace = { get: (id: DurableObjectId, ...rest: unknown[]) => object };

/**
 * Until the returned function is called, the next `times` calls of `method` on stubs `ns` makes for
 * `target` reject with `error()` (by default, as a reset object's call does). `onCall` hears each call of it, and whether it failed. Stubs made meanwhile are
 * proxies (which runInDurableObject cannot use): put `get` back before reaching into the object.
 */
export function failCalls(
  ns: object,
  target: DurableObjectId,
  method: string,
  times: number,
  onCall: (failed: boolean) => void = () => {},
  error: () => Error = () => new Error('Durable Object reset because its code was updated. (simulated)'),
): () => void {
  const namespace = ns as unknown as Namespace;
  const own = Object.hasOwn(namespace, 'get');
  const get = namespace.get;
  let left = times;
  namespace.get = (id, ...rest) => {
    const stub = get.call(namespace, id, ...rest);
    if (!id.equals(target)) return stub;
    return new Proxy(stub, {
      get: (inner, key) => {
        if (key !== method) return Reflect.get(inner, key);
        const failed = left-- > 0;
        onCall(failed);
        if (failed) return () => Promise.reject(error());
        // Called on the stub itself: one of its methods called on the proxy throws 'Illegal invocation'.
        return (...args: unknown[]) => (inner as Record<string, (...a: unknown[]) => unknown>)[method]?.(...args);
      },
    });
  };
  return () => {
    if (own) namespace.get = get;
    else delete (namespace as Partial<Namespace>).get;
  };
}
