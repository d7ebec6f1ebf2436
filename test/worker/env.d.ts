import type { D1Migration } from 'cloudflare:test';
import type { Env as WorkerEnv } from '../../worker/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** Empty: migration tests apply the migrations to it one by one. */
      MIGRATION_DB: D1Database;
      /** The receiver hub (test/support/receiver-hub.ts). */
      RECEIVER_URL: string;
    }
    interface GlobalProps {
      mainModule: typeof import('../../worker/index.ts');
    }
  }
}
