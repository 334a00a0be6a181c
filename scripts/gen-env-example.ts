/**
 * Writes `.env.example` from the settings table in lib/runtime/config.ts (the one source), so the
 * file always lists every key with its default and meaning. `test/lib/runtime/config.test.ts` fails
 * when the committed file is out of date. Usage: npx tsx scripts/gen-env-example.ts
 */
import { writeFileSync } from 'node:fs';
import { renderEnvExample } from '../lib/runtime/config.js';

writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample());
process.stdout.write('wrote .env.example\n');
