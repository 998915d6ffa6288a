// Entry used when running the CLI from source (tests, development): `node --import tsx src/cli/bin.ts …`.
import { run } from './main.js';

process.exitCode = await run(process.argv);
