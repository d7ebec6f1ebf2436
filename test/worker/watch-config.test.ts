// ${VAR} in the Worker's watchdog configuration reads its plain string bindings, never its secrets:
// what the configuration says (a component's name) can reach the public status page.
import { describe, expect, it } from 'vitest';
import { secretBinding, watchConfig } from '../../worker/watch-config.ts';

const config = (text: string, env: Record<string, string>) => watchConfig({ BLINDSPOT_CONFIG: text, ...env });

describe("the watchdog configuration's variables", () => {
  it('reads a plain var', () => {
    const loaded = config(`components: [{ id: metrics, name: "Metrics \${REGION}" }]`, { REGION: 'eu-west-1' });
    expect(loaded.errors).toEqual([]);
    expect(loaded.config.components.find((c) => c.id === 'metrics')?.name).toBe('Metrics eu-west-1');
  });

  it.each([
    'BLINDSPOT_WEBHOOK_SECRET',
    'BLINDSPOT_AGENT_SECRETS',
    'BLINDSPOT_CHANNEL_SECRETS',
    'BLINDSPOT_ADMIN_TOKENS',
    'PAGERDUTY_ROUTING_KEY',
    'DB_PASSWORD',
    'API_KEY',
  ])('refuses %s, naming why, and never puts its value on the page or in the error', (name) => {
    const secret = 'whsec_do-not-show-me';
    const loaded = config(`components: [{ id: metrics, name: "\${${name}}" }]`, { [name]: secret });
    expect(loaded.errors.join('\n')).toMatch(
      new RegExp(`BLINDSPOT_CONFIG:1:\\d+: components\\[0\\]\\.name: \\$\\{${name}\\}: ${name} is a secret`),
    );
    expect(JSON.stringify(loaded)).not.toContain(secret);
  });

  it('does not take a name that merely contains the letters of one for a secret', () => {
    expect(secretBinding('MONKEY_BUSINESS')).toBeNull();
    expect(secretBinding('KEYBOARD')).toBeNull();
    expect(secretBinding('REGION')).toBeNull();
  });
});
