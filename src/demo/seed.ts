/**
 * Demo data: a few hundred records that look like a real response in Nepal, so a new user sees
 * organisations with offices, hospitals with bed capacity, locations and incident reports at once.
 * Deterministic (seeded generator, derived uuids), and loaded only into an empty store.
 */
import { createHash } from 'node:crypto';
import { importResources } from '../importer/importer.js';
import type { S3Data, S3Reference, S3Resource } from '../s3xml/model.js';
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { Store } from '../store/store.js';

function demoUuid(kind: string, index: number): string {
  const h = createHash('sha1').update(`sluice-demo/${kind}/${index}`).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** mulberry32: small, fast, good enough for plausible demo values. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PROVINCES = ['Koshi', 'Madhesh', 'Bagmati', 'Gandaki', 'Lumbini', 'Karnali', 'Sudurpashchim'];
const PLACES: [string, number, number, number][] = [
  ['Kathmandu', 27.7172, 85.324, 2], ['Lalitpur', 27.6644, 85.3188, 2], ['Bhaktapur', 27.671, 85.4298, 2],
  ['Pokhara', 28.2096, 83.9856, 3], ['Biratnagar', 26.4525, 87.2718, 0], ['Birgunj', 27.0104, 84.8779, 1],
  ['Dharan', 26.8065, 87.2846, 0], ['Bharatpur', 27.6833, 84.4333, 2], ['Butwal', 27.7006, 83.4484, 4],
  ['Hetauda', 27.4287, 85.0322, 2], ['Janakpur', 26.7288, 85.9263, 1], ['Nepalgunj', 28.05, 81.6167, 4],
  ['Dhangadhi', 28.6852, 80.6216, 6], ['Gorkha', 28.0, 84.6333, 3], ['Birendranagar', 28.6019, 81.6339, 5],
  ['Ilam', 26.9094, 87.9282, 0], ['Tansen', 27.8673, 83.5467, 4], ['Baglung', 28.2719, 83.5898, 3],
  ['Dhulikhel', 27.6253, 85.5561, 2], ['Charikot', 27.6667, 86.05, 2], ['Chautara', 27.7833, 85.7167, 2],
  ['Besisahar', 28.2333, 84.3833, 3], ['Jumla', 29.2747, 82.1838, 5], ['Dadeldhura', 29.3, 80.5833, 6],
];
const ORGS: [string, string, number][] = [
  ['Nepal Red Cross Society', 'NRCS', 3], ['Himal Relief', 'HR', 1], ['Ministry of Health and Population', 'MoHP', 0],
  ['World Food Programme', 'WFP', 2], ['UNICEF Nepal', 'UNICEF', 2], ['Médecins Sans Frontières', 'MSF', 1],
  ['Oxfam Nepal', 'OXFAM', 1], ['Save the Children', 'SC', 1], ['Community Rescue Group Gorkha', 'CRGG', 4],
  ['Nepal Army Disaster Unit', 'NADU', 0], ['Action Against Hunger', 'ACF', 1], ['CARE Nepal', 'CARE', 1],
  ['Lutheran World Relief', 'LWR', 1], ['Plan International Nepal', 'PLAN', 1], ['World Vision Nepal', 'WVN', 1],
  ['International Organization for Migration', 'IOM', 2], ['Handicap International', 'HI', 1],
  ['Tuki Sangh Sunsari', 'TSS', 4], ['District Disaster Relief Committee Sindhupalchok', 'DDRC-S', 0],
  ['Mercy Corps', 'MC', 1], ['Shelter Cluster Nepal', 'SCN', 2], ['Nepal Police', 'NP', 0],
];
const ORG_TYPES = ['Government', 'NGO', 'UN agency', 'Red Cross / Red Crescent', 'Community group'];
const INCIDENT_TYPES = ['Landslide', 'Flood', 'Earthquake damage', 'Fire', 'Road blocked', 'Disease outbreak', 'Shelter need'];
const INCIDENT_NOTES = [
  'Road to the village cut off after heavy rain; about 40 households without access.',
  'घरहरू क्षतिग्रस्त भएका छन्, आश्रय आवश्यक छ।',
  'Water source contaminated; several cases of diarrhoea reported at the health post.',
  'School building cracked after aftershock; classes moved outdoors.',
  'Bridge washed away, families on the other bank need food supplies.',
  'पहिरोले सडक अवरुद्ध, यातायात ठप्प।',
];

function data(field: string, text: string, value?: unknown): S3Data {
  return value === undefined ? { field, text } : { field, text, value: JSON.stringify(value) };
}

function ref(field: string, resource: string, uuid: string, text?: string): S3Reference {
  return { field, resource, uuid, ...(text ? { text } : {}) };
}

function record(name: string, uuid: string, modified: string, extra: Partial<S3Resource>): S3Resource {
  return {
    name,
    uuid,
    mci: 0,
    created_on: modified,
    modified_on: modified,
    attributes: {},
    data: [],
    references: [],
    components: [],
    ...extra,
  };
}

export function demoResources(clock: Clock): S3Resource[] {
  const rnd = random(2015);
  const base = clock.now().getTime() - 30 * 24 * 3600 * 1000;
  const at = (i: number) => formatTimestamp(new Date(base + i * 1_800_000 + Math.floor(rnd() * 600_000)));
  const out: S3Resource[] = [];
  let tick = 0;

  const country = demoUuid('L0', 0);
  out.push(record('gis_location', country, at(tick++), {
    data: [data('name', 'Nepal'), data('level', 'L0', 'L0'), data('lat', '28.3949', 28.3949), data('lon', '84.124', 84.124)],
  }));
  PROVINCES.forEach((name, i) => {
    out.push(record('gis_location', demoUuid('L1', i), at(tick++), {
      data: [data('name', name), data('level', 'L1', 'L1')],
      references: [ref('parent', 'gis_location', country, 'Nepal')],
    }));
  });
  const places: { uuid: string; name: string }[] = [];
  for (let i = 0; i < 80; i++) {
    const [town, lat, lon, province] = PLACES[i % PLACES.length]!;
    const name = i < PLACES.length ? town : `${town} ward ${1 + Math.floor(i / PLACES.length) * 3 + (i % 3)}`;
    const la = +(lat + (rnd() - 0.5) * 0.08).toFixed(4);
    const lo = +(lon + (rnd() - 0.5) * 0.08).toFixed(4);
    const uuid = demoUuid('place', i);
    places.push({ uuid, name });
    out.push(record('gis_location', uuid, at(tick++), {
      data: [
        data('name', name),
        data('gis_feature_type', 'Point', 1),
        data('lat', String(la), la),
        data('lon', String(lo), lo),
        data('wkt', `POINT (${lo} ${la})`),
        data('L0', 'Nepal'),
        data('L1', PROVINCES[province]!),
      ],
      references: [ref('parent', 'gis_location', demoUuid('L1', province), PROVINCES[province])],
    }));
  }
  const place = () => places[Math.floor(rnd() * places.length)]!;

  ORG_TYPES.forEach((name, i) => {
    out.push(record('org_organisation_type', demoUuid('orgtype', i), at(tick++), { data: [data('name', name)] }));
  });
  const orgs: { uuid: string; name: string }[] = [];
  ORGS.forEach(([name, acronym, type], i) => {
    const uuid = demoUuid('org', i);
    orgs.push({ uuid, name });
    const offices: S3Resource[] = [];
    const count = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < count; k++) {
      const p = place();
      offices.push(record('org_office', demoUuid(`office-${i}`, k), at(tick++), {
        data: [
          data('name', `${acronym} ${p.name} ${k === 0 ? 'Office' : 'Field Office'}`),
          data('code', `${acronym}-${String(k + 1).padStart(2, '0')}`),
          data('phone1', `+977-${1 + Math.floor(rnd() * 98)}-${100000 + Math.floor(rnd() * 899999)}`),
          data('obsolete', 'No', false),
        ],
        references: [ref('location_id', 'gis_location', p.uuid, p.name)],
      }));
    }
    out.push(record('org_organisation', uuid, at(tick++), {
      data: [
        data('name', name),
        data('acronym', acronym),
        data('website', `https://${acronym.toLowerCase().replace(/[^a-z]/g, '')}.example.org`),
        data('comments', i % 4 === 0 ? 'Cluster lead for the district response.' : ''),
      ],
      references: [ref('organisation_type_id', 'org_organisation_type', demoUuid('orgtype', type), ORG_TYPES[type])],
      components: offices,
    }));
  });

  const hospitalNames = ['District Hospital', 'Health Post', 'Primary Health Care Centre', 'Teaching Hospital', 'Community Hospital'];
  for (let i = 0; i < 36; i++) {
    const p = place();
    const kind = hospitalNames[i % hospitalNames.length]!;
    const beds: S3Resource[] = [];
    const bedTypes: [number, string][] = [[1, 'Adult ICU'], [5, 'Emergency Department'], [6, 'Nursery'], [8, 'Medical-Surgical']];
    for (let b = 0; b < 1 + (i % 3); b++) {
      const [code, label] = bedTypes[(i + b) % bedTypes.length]!;
      const baseline = 5 + Math.floor(rnd() * 60);
      const available = Math.floor(rnd() * baseline);
      beds.push(record('med_bed_capacity', demoUuid(`beds-${i}`, b), at(tick), {
        data: [
          data('bed_type', label, code),
          data('beds_baseline', String(baseline), baseline),
          data('beds_available', String(available), available),
        ],
      }));
    }
    const statusCode = 1 + Math.floor(rnd() * 3);
    const status = record('med_hospital_status', demoUuid('hstatus', i), at(tick), {
      data: [
        data('facility_status', ['Normal', 'Compromised', 'Evacuating'][statusCode - 1]!, statusCode),
        data('ems_status', 'Normal', 1),
        data('security_status', 'Normal', 1),
      ],
    });
    const owner = orgs[i % orgs.length]!;
    out.push(record('med_hospital', demoUuid('hospital', i), at(tick++), {
      data: [
        data('name', `${p.name} ${kind}`),
        data('code', `H-${String(i + 1).padStart(3, '0')}`),
        data('facility_type', kind === 'Health Post' ? 'Health Post' : 'Hospital', kind === 'Health Post' ? 13 : 1),
        data('phone_emergency', `+977-${10 + (i % 80)}-${500000 + i}`),
        data('total_beds', String(beds.length * 20), beds.length * 20),
      ],
      references: [
        ref('location_id', 'gis_location', p.uuid, p.name),
        ref('organisation_id', 'org_organisation', owner.uuid, owner.name),
      ],
      components: [status, ...beds],
    }));
  }

  for (let i = 0; i < 140; i++) {
    const p = place();
    const type = INCIDENT_TYPES[Math.floor(rnd() * INCIDENT_TYPES.length)]!;
    const status = ['new', 'verified', 'actionable', 'actioned'][Math.floor(rnd() * 4)]!;
    const when = at(tick++);
    out.push(record('event_incident_report', demoUuid('incident', i), when, {
      data: [
        data('name', `${type} near ${p.name}`),
        data('date', when, when),
        data('description', INCIDENT_NOTES[i % INCIDENT_NOTES.length]!),
        data('incident_type', type),
        data('verified', status === 'new' ? 'No' : 'Yes', status !== 'new'),
        data('status', status[0]!.toUpperCase() + status.slice(1), status),
        data('source', i % 3 === 0 ? 'Ushahidi' : 'Field report'),
      ],
      references: [ref('location_id', 'gis_location', p.uuid, p.name)],
    }));
  }
  return out;
}

/** Loads the demo records into an empty store; returns how many resources were imported (0 if not empty). */
export async function seedDemo(store: Store, clock: Clock): Promise<number> {
  const existing = await store.resources();
  if (existing.some((r) => r.count > 0)) return 0;
  const resources = demoResources(clock);
  await importResources(store, resources, { clock, updatePolicy: 'OTHER' });
  return resources.length;
}
