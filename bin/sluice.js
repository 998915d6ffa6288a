#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (npm install builds dist/ through "prepare").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('sluice: dist/ is missing; run "npm run build" (npm install does it for you)\n');
  process.exit(70);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv);
