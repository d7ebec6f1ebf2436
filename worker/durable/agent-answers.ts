// What an agent's object answers the routes and the sweep.

/** A heartbeat's fate: taken (with the next deadline), or why not. The route turns each into its HTTP answer. */
export type IngestResult =
  /** keysKept: the object holds a copy of the agent's managed secrets (kept-secrets.ts). */
  | { status: 'accepted'; deadlineAt: number; keysKept: boolean }
  | { status: 'replay' }
  | { status: 'out_of_order'; lastSeq: number }
  | { status: 'over_limit'; limit: string; message: string }
  | { status: 'retired' };

/** The sweep's safety net: nothing watched, a lost alarm re-armed, something overdue evaluated, or all in order. */
export type EnsureResult = 'idle' | 'armed' | 'fired' | 'ok';
