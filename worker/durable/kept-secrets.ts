// The copy of an agent's managed secrets its own object keeps: what verifies its heartbeats when the
// credentials store cannot be reached and this isolate has not cached them, so a live agent is not
// refused (and paged as silent) because of the store. The credentials store stays the source of
// truth: the admin API writes the copy after every change (a revocation is not done until the copy
// has it too), and a heartbeat verified by the store fills the copy of an agent that has none
// (one added before copies were kept). Store only: no decisions here.
import { getMeta, setMeta } from '../store/object-live.ts';

const KEY = 'managed_secrets';

export class KeptSecrets {
  /** undefined: not read yet; null: never told. */
  private secrets: readonly string[] | null | undefined;

  constructor(private readonly sql: SqlStorage) {}

  /** The secrets as last told (none: every key revoked), or null if this object was never told. */
  get(): readonly string[] | null {
    if (this.secrets === undefined) {
      const stored = getMeta(this.sql, KEY);
      this.secrets = stored === null ? null : (JSON.parse(stored) as string[]);
    }
    return this.secrets;
  }

  set(secrets: readonly string[]): void {
    setMeta(this.sql, KEY, JSON.stringify(secrets));
    this.secrets = [...secrets];
  }
}
