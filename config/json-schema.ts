// The JSON Schema editors use for completion and checks of blindspot.config.yaml
// (the file's first line points yaml-language-server at it). Generated from the valibot schema:
//   npm run config-schema      writes config/blindspot.config.schema.json
// A test fails when the committed file is out of date.
import { toJsonSchema } from '@valibot/to-json-schema';
import { ConfigFileSchema } from './schema.ts';

export function configJsonSchema(): string {
  // Cross-field checks (ends_at after starts_at, a monitor selects something) are the validator's job; the schema covers shapes.
  const schema = toJsonSchema(ConfigFileSchema, { errorMode: 'ignore' });
  return `${JSON.stringify({ ...schema, title: 'Blindspot watchdog configuration', description: 'Components, monitors, Alertmanager sources and maintenance windows. See docs/configuration.md, "Watchdog configuration".' }, null, 2)}\n`;
}
