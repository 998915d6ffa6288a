/**
 * Deterministic S3XML for the transform benchmark: N `org_organisation` records (with 0–3 nested
 * `org_office` components) followed by N/5 `gis_location` records they reference, in the order an
 * Eden export puts dereferenced records. Names carry non-ASCII letters, quotes, commas and `<`.
 *
 *   node --import tsx tools/bench/transform/generate.ts 10000 > in.xml
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const ORG_TYPES = ['1', '2', '3', '4', '5', '6', '7', '99'];
const COUNTRIES = ['NP', 'BD', 'PK', 'IN', 'LK', 'CH', 'DK', 'BR', 'FR', 'KE', 'XX'];
const SECTORS = ['HEA', 'WASH', 'EDU', 'SHEL', 'FOOD', 'PROT', 'LOG', 'NUT', 'UNK'];
const OFFICE_TYPES = ['1', '2', '3', '4'];
const WORDS = ['Médecins', 'Zürich', 'Ærø', 'São Paulo', 'Relief', 'Himal', 'Kathmandu', 'Water "Clean"', 'Aid, Inc.', 'Hope <Now>', 'Développement', 'Øresund'];
const PLACES = ['Pokhara', 'Bhaktapur', 'Dhaka', 'Ærøskøbing', 'São Paulo', 'Zürich', 'Chitwan', 'Lalitpur'];

/** A small linear congruential generator: the same N always gives the same document. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, '&quot;');
}

function uuid(kind: string, n: number): string {
  return `urn:uuid:${kind}-${n.toString(16).padStart(8, '0')}-4a5b-8c9d-${(n * 7919).toString(16).padStart(12, '0').slice(-12)}`;
}

function stamp(random: () => number): string {
  const day = 1 + Math.floor(random() * 28);
  const month = 1 + Math.floor(random() * 12);
  const hour = Math.floor(random() * 24);
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `2024-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(Math.floor(random() * 60))}:${pad(Math.floor(random() * 60))}`;
}

export function* generateS3XML(records: number): Generator<string> {
  const random = randomFrom(records * 31 + 7);
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
  const locations = Math.max(1, Math.floor(records / 5));
  yield `<?xml version="1.0" encoding="utf-8"?>\n<s3xml success="true" results="${records}" domain="bench.example.org" url="https://bench.example.org/eden">\n`;
  for (let n = 0; n < records; n++) {
    const name = `${pick(WORDS)} ${pick(WORDS)} ${n}`;
    const acronym = name.replace(/[^A-Z]/g, '').slice(0, 5) || 'ORG';
    const sectors = Array.from({ length: Math.floor(random() * 4) }, () => pick(SECTORS));
    const country = pick(COUNTRIES);
    const orgType = pick(ORG_TYPES);
    const deleted = random() < 0.02;
    const parts = [
      `  <resource name="org_organisation" uuid="${uuid('org', n)}" mci="1" created_on="${stamp(random)}" modified_on="${stamp(random)}"${deleted ? ' deleted="True"' : ''}>\n`,
      `    <data field="name">${escapeText(name)}</data>\n`,
      `    <data field="acronym">${escapeText(acronym)}</data>\n`,
      `    <data field="organisation_type" value="${orgType}">Type ${orgType}</data>\n`,
      `    <data field="country" value="&quot;${country}&quot;">${country}</data>\n`,
    ];
    if (random() < 0.7) parts.push(`    <data field="website">https://www.example.org/${n}?q=a&amp;b=${n % 13}</data>\n`);
    if (random() < 0.8) parts.push(`    <data field="phone">+977 (${n % 90}) ${100 + (n % 900)}-${1000 + (n % 9000)}</data>\n`);
    parts.push(`    <data field="sector" value="${escapeAttribute(JSON.stringify(sectors))}">${escapeText(sectors.join(', '))}</data>\n`);
    if (random() < 0.6) {
      const comment = `Works in ${pick(PLACES)}, says "we're ${pick(WORDS)}"; budget < ${n % 1000}k & growing`;
      parts.push(`    <data field="comments">${escapeText(comment)}</data>\n`);
    }
    parts.push(`    <reference field="location_id" resource="gis_location" uuid="${uuid('loc', Math.floor(random() * locations))}"/>\n`);
    const offices = Math.floor(random() * 4);
    for (let o = 0; o < offices; o++) {
      parts.push(
        `    <resource name="org_office" uuid="${uuid('off', n * 4 + o)}" modified_on="${stamp(random)}">\n`,
        `      <data field="name">${escapeText(`${pick(PLACES)} Office ${o + 1}`)}</data>\n`,
        `      <data field="office_type_id" value="${pick(OFFICE_TYPES)}"/>\n`,
        `      <reference field="location_id" resource="gis_location" uuid="${uuid('loc', Math.floor(random() * locations))}"/>\n`,
        '    </resource>\n',
      );
    }
    parts.push('  </resource>\n');
    yield parts.join('');
  }
  for (let l = 0; l < locations; l++) {
    const lat = (26 + random() * 4).toFixed(4);
    const lon = (80 + random() * 8).toFixed(4);
    yield [
      `  <resource name="gis_location" uuid="${uuid('loc', l)}" mci="1" modified_on="${stamp(random)}">\n`,
      `    <data field="name">${escapeText(`${pick(PLACES)} ${l}`)}</data>\n`,
      '    <data field="gis_feature_type" value="1">Point</data>\n',
      `    <data field="lat" value="${lat}">${lat}</data>\n`,
      `    <data field="lon" value="${lon}">${lon}</data>\n`,
      `    <data field="L0">${escapeText(pick(PLACES))}</data>\n`,
      '  </resource>\n',
    ].join('');
  }
  yield '</s3xml>\n';
}

/** Writes the document to a file; returns its size in bytes. */
export async function writeS3XML(records: number, file: string): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  let pending: string[] = [];
  for (const piece of generateS3XML(records)) {
    pending.push(piece);
    if (pending.length >= 256) {
      const text = pending.join('');
      bytes += Buffer.byteLength(text);
      pending = [];
      if (!out.write(text)) await once(out, 'drain');
    }
  }
  const rest = pending.join('');
  bytes += Buffer.byteLength(rest);
  out.end(rest);
  await once(out, 'finish');
  return bytes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const records = Number(process.argv[2] ?? '1000');
  for (const piece of generateS3XML(records)) process.stdout.write(piece);
}
