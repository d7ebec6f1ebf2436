// What an isolate knows of agents' secrets is what it falls back on while the credentials object is
// away: past its bound it forgets the answer kept longest ago, not everything.
import { describe, expect, it } from 'vitest';
import { MAX_CACHED, remember } from '../../worker/durable/credentials.ts';

describe("an isolate's cache of credentials", () => {
  it('forgets only the answer kept longest ago when full, and a refreshed answer counts as new', () => {
    const kept = new Map<string, number>();
    for (let i = 0; i < MAX_CACHED; i++) remember(kept, `agent-${i}`, i);
    remember(kept, 'agent-0', -1); // refreshed: now the newest
    remember(kept, 'agent-new', 1);
    expect(kept.size).toBe(MAX_CACHED);
    expect(kept.has('agent-1')).toBe(false);
    expect(kept.get('agent-0')).toBe(-1);
    expect(kept.get('agent-2')).toBe(2);
    expect(kept.get('agent-new')).toBe(1);
  });
});
