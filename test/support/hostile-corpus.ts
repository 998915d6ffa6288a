import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generators } from '../fixtures/hostile/generators.js';

export const HOSTILE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'hostile');

interface Manifest {
  files: Record<string, string>;
  generated: Record<string, { generator: string; code: string; options?: Record<string, number> }>;
}

export interface HostileCase {
  name: string;
  code: string;
  bytes(): Buffer;
}

const manifest = JSON.parse(readFileSync(path.join(HOSTILE_DIR, 'manifest.json'), 'utf8')) as Manifest;

/**
 * The hostile corpus as whole bodies, for the HTTP and CLI surfaces. Generated cases that only fail
 * under non-default parser options are left to the parser's own tests; the rest are included.
 */
export function hostileCases(): HostileCase[] {
  const cases: HostileCase[] = Object.entries(manifest.files).map(([name, code]) => ({
    name,
    code,
    bytes: () => readFileSync(path.join(HOSTILE_DIR, name)),
  }));
  for (const [name, spec] of Object.entries(manifest.generated)) {
    if (spec.options) continue;
    const generate = generators[spec.generator];
    if (!generate) throw new Error(`manifest names unknown generator ${spec.generator}`);
    cases.push({ name, code: spec.code, bytes: () => Buffer.concat([...generate()].map((c) => Buffer.from(c))) });
  }
  return cases;
}
