import { writeFileSync } from 'node:fs';
import { configJsonSchema } from './json-schema.ts';

const target = new URL('./blindspot.config.schema.json', import.meta.url);
writeFileSync(target, configJsonSchema());
console.log(`wrote ${target.pathname.split('/').slice(-2).join('/')}`);
