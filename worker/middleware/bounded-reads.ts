// An admin read (GET or HEAD: the admin API's lists, the gap report) waits at most d1Wait for each of
// its D1 calls: a D1 that hangs answers 503 storage_unavailable in seconds (app.ts onError), not a
// request that never ends. Writes are left to the platform: a time-out could not say whether the
// write landed, and a 503 tells the client it may send the request again as it was.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { d1Wait, within } from '../durable/clock.ts';

const CALLS = new Set(['all', 'first', 'run', 'raw']);
const real = new WeakMap<object, D1PreparedStatement>();

function boundedStatement(s: D1PreparedStatement): D1PreparedStatement {
  const bounded = new Proxy(s, {
    get(target, key) {
      if (key === 'bind') return (...values: unknown[]) => boundedStatement(target.bind(...values));
      const value = Reflect.get(target, key);
      if (typeof value !== 'function') return value;
      if (typeof key === 'string' && CALLS.has(key))
        return (...args: unknown[]) => within(value.apply(target, args) as Promise<unknown>, d1Wait.ms, 'D1');
      return value.bind(target);
    },
  });
  real.set(bounded, s);
  return bounded;
}

/** D1 whose statements (and batches) fail with "D1 did not answer within …" once d1Wait has passed. */
export function boundedD1(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, key) {
      if (key === 'prepare') return (query: string) => boundedStatement(target.prepare(query));
      if (key === 'batch')
        return (statements: D1PreparedStatement[]) => within(target.batch(statements.map((s) => real.get(s) ?? s)), d1Wait.ms, 'D1');
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export const boundedReads: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method === 'GET' || c.req.method === 'HEAD') c.env = { ...c.env, DB: boundedD1(c.env.DB) };
  await next();
};
