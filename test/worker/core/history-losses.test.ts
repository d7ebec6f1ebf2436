// What /healthz says of the history D1 lacks (core/replication-policy.ts historyLossErrors): a
// sentence for the agents' objects and one for the Watchdog object's own, each failing /healthz.
import { describe, expect, it } from 'vitest';
import { historyLossErrors } from '../../../worker/core/replication-policy.ts';

describe('historyLossErrors', () => {
  it('says nothing when nothing is lost, or nothing is known yet', () => {
    expect(historyLossErrors(null, null)).toEqual({ agents: [], watchdog: [] });
    expect(historyLossErrors({ setAside: 0, dropped: 0, agents: 0 }, { setAside: 0, dropped: 0 })).toEqual({ agents: [], watchdog: [] });
  });

  it("says the Watchdog object's losses alone, naming its command, though no agent lost anything", () => {
    const said = historyLossErrors({ setAside: 0, dropped: 0, agents: 0 }, { setAside: 0, dropped: 2 });
    expect(said.agents).toEqual([]);
    expect(said.watchdog).toEqual([
      'D1 lacks history of the Watchdog object (its summaries, the gaps in its ticks): 0 batch(es) set aside (refused by D1 for good) and 2 dropped. blindspot watchdog replication shows them; retry once D1 takes them, or acknowledge them',
    ]);
  });

  it("says the agents' losses with how many agents, though the Watchdog's record is unknown", () => {
    const said = historyLossErrors({ setAside: 3, dropped: 0, agents: 2 }, null);
    expect(said.watchdog).toEqual([]);
    expect(said.agents).toEqual([
      expect.stringMatching(/^D1 lacks history of 2 agent\(s\): 3 batch\(es\) set aside .* blindspot agent replication shows them/),
    ]);
  });
});
