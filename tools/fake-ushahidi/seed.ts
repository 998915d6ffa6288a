import { createHash } from 'node:crypto';
import type { FakeCategory, FakeForm, FakePost, FakeState, FakeUser } from './state.js';

/** Deterministic PRNG (mulberry32): the same seed always builds the same deployment. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const UI_CLIENT = { id: 'ushahidiui', secret: createHash('sha1').update('ushahidiui').digest('hex') };

export const DEFAULT_USERS: FakeUser[] = [
  { id: 1, email: 'admin@example.org', username: 'admin', password: 'admin-password', realname: 'Deployment Admin', role: 'admin' },
  { id: 2, email: 'member@example.org', username: 'member', password: 'member-password', realname: 'Field Volunteer', role: 'user' },
  { id: 3, email: 'reporter@example.org', username: 'reporter', password: 'reporter-password', realname: 'Radio Desk', role: 'user' },
];

const CATEGORIES: Array<[number, number | null, string, string]> = [
  [1, null, 'Emergency', '#A51A1A'],
  [2, 1, 'Trapped people', '#E8A317'],
  [3, 1, 'Collapsed structure', '#7D0552'],
  [4, 1, 'Medical emergency', '#F62817'],
  [5, null, 'Water shortage', '#2274B4'],
  [6, null, 'Food shortage', '#4E8975'],
  [7, null, 'Shelter needed', '#8D38C9'],
  [8, null, 'Security threat', '#151B54'],
  [9, null, 'Fire', '#FF7F50'],
  [10, null, 'Services available', '#41A317'],
];

function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function fieldKey(random: () => number): string {
  const hex = () => Math.floor(random() * 0x10000).toString(16).padStart(4, '0');
  return `${hex()}${hex()}-${hex()}-4${hex().slice(1)}-a${hex().slice(1)}-${hex()}${hex()}${hex()}`;
}

export function seedReferenceData(state: FakeState, users: FakeUser[], random: () => number): void {
  state.users.push(...users);
  state.clients.push(UI_CLIENT, { id: 'demoapp', secret: 'demopass' });
  for (const [id, parentId, tag, color] of CATEGORIES) {
    const category: FakeCategory = { id, parentId, tag, slug: slugify(tag), color, icon: 'tag', description: '', priority: 0 };
    state.categories.set(id, category);
  }
  const incidentForm: FakeForm = {
    id: 1,
    name: 'Incident report',
    stageId: 1,
    requireApproval: false,
    hideTime: false,
    fields: [
      { id: 1, key: fieldKey(random), label: 'Title', input: 'text', type: 'title', priority: 1, options: [] },
      { id: 2, key: fieldKey(random), label: 'Description', input: 'text', type: 'description', priority: 2, options: [] },
      { id: 3, key: fieldKey(random), label: 'Location', input: 'location', type: 'point', priority: 3, options: [] },
      { id: 4, key: fieldKey(random), label: 'People affected', input: 'number', type: 'int', priority: 4, options: [] },
      { id: 5, key: fieldKey(random), label: 'Urgent', input: 'radio', type: 'varchar', priority: 5, options: ['yes', 'no'] },
      { id: 6, key: fieldKey(random), label: 'Categories', input: 'tags', type: 'tags', priority: 6, options: CATEGORIES.map((c) => String(c[0])) },
    ],
  };
  const smsForm: FakeForm = {
    id: 2,
    name: 'SMS 4636 reports',
    stageId: 2,
    requireApproval: true,
    hideTime: true,
    fields: [
      { id: 7, key: fieldKey(random), label: 'Title', input: 'text', type: 'title', priority: 1, options: [] },
      { id: 8, key: fieldKey(random), label: 'Description', input: 'text', type: 'description', priority: 2, options: [] },
      { id: 9, key: fieldKey(random), label: 'Location', input: 'location', type: 'point', priority: 3, options: [] },
      { id: 10, key: fieldKey(random), label: 'Sender phone', input: 'text', type: 'varchar', priority: 4, options: [] },
      { id: 11, key: fieldKey(random), label: 'Categories', input: 'tags', type: 'tags', priority: 5, options: CATEGORIES.map((c) => String(c[0])) },
    ],
  };
  state.forms.set(1, incidentForm);
  state.forms.set(2, smsForm);
}

const PLACES: Array<[string, number, number]> = [
  ['Pétion-Ville', 18.5125, -72.2853],
  ['Rue Capois, Port-au-Prince', 18.5392, -72.3364],
  ['Carrefour', 18.5411, -72.3994],
  ['Delmas 33', 18.5506, -72.3031],
  ['Cité Soleil', 18.5806, -72.3333],
  ['Léogâne', 18.5111, -72.6339],
  ['Jacmel', 18.2342, -72.5347],
  ['Croix-des-Bouquets', 18.5767, -72.2256],
  ['Champ de Mars', 18.5447, -72.3388],
  ['Tabarre', 18.5717, -72.2731],
];

interface Template {
  locale: string;
  categories: number[];
  title: (place: string) => string;
  content: (place: string, n: number) => string;
}

/** Several languages and scripts, plus markup-like text, so every layer's escaping is exercised. */
const TEMPLATES: Template[] = [
  {
    locale: 'en_us',
    categories: [5, 1],
    title: (p) => `Water needed at ${p} camp`,
    content: (p, n) => `About ${n} families near ${p} have had no clean water since Tuesday.`,
  },
  {
    locale: 'en_us',
    categories: [3, 2],
    title: (p) => `Collapsed school, people trapped (${p})`,
    content: (p, n) => `Two floors down at ${p}; neighbours hear ${n % 12} voices under the rubble.`,
  },
  {
    locale: 'fr_fr',
    categories: [4],
    title: (p) => `Besoin urgent de médecins à ${p}`,
    content: (p, n) => `Environ ${n} blessés attendent des soins près de l'église de ${p}. Pas d'électricité.`,
  },
  {
    locale: 'ht',
    categories: [6],
    title: (p) => `Nou bezwen manje nan ${p}`,
    content: (p, n) => `Plis pase ${n} moun nan ${p} pa manje depi twa jou. Tanpri voye èd.`,
  },
  {
    locale: 'es',
    categories: [7],
    title: (p) => `Familias sin refugio en ${p}`,
    content: (p, n) => `${n} personas duermen en la calle en ${p}; necesitan lonas y agua.`,
  },
  {
    locale: 'ar',
    categories: [5],
    title: (p) => `نقص حاد في مياه الشرب في ${p}`,
    content: (p, n) => `حوالي ${n} عائلة بدون ماء نظيف في ${p}.`,
  },
  {
    locale: 'ne',
    categories: [3],
    title: (p) => `${p} मा भवन भत्कियो`,
    content: (p, n) => `${p} क्षेत्रमा ${n} जना विस्थापित भएका छन्।`,
  },
  {
    locale: 'ja',
    categories: [9],
    title: (p) => `${p}で火災が発生`,
    content: (p, n) => `${p}の市場付近で火災。約${n}人が避難しています。`,
  },
  {
    locale: 'en_us',
    categories: [8],
    title: (p) => `Food & water truck <blocked> near ${p}`,
    content: (p, n) => `Convoy of ${n % 9} trucks stopped at "${p}" checkpoint; drivers say it's unsafe & ask for escort.`,
  },
  {
    locale: 'en_us',
    categories: [10],
    title: (p) => `Clinic open at ${p}`,
    content: (p, n) => `MSF tent clinic at ${p} can take ${n} patients a day. Bring ID if you have it.`,
  },
  {
    locale: 'en_us',
    categories: [],
    title: (p) => `Unconfirmed report from ${p}`,
    content: () => `Caller hung up before giving details.`,
  },
];

const SOURCES: FakePost['source'][] = ['web', 'sms', 'email', 'twitter'];

/** Seeded posts start the day of the Haiti earthquake. */
const SEED_EPOCH = Date.UTC(2010, 0, 12, 22, 0, 0) / 1000;

export interface PostSeedContext {
  state: FakeState;
  random: () => number;
  /** Creation time in epoch seconds. */
  created: number;
}

/** Builds one realistic post with id `id`; the caller inserts it. */
export function generatePost(id: number, ctx: PostSeedContext, overrides: Partial<FakePost> = {}): FakePost {
  const { random } = ctx;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const template = TEMPLATES[id % TEMPLATES.length]!;
  const [placeName, lat, lon] = pick(PLACES);
  const people = 5 + Math.floor(random() * 600);
  const fromSms = random() < 0.35;
  const formRoll = random();
  const formId = formRoll < 0.08 ? null : fromSms ? 2 : 1;
  const roll = random();
  const status = formId === 2 ? (roll < 0.55 ? 'draft' : roll < 0.9 ? 'published' : 'archived') : roll < 0.7 ? 'published' : roll < 0.9 ? 'draft' : 'archived';
  const title = template.title(placeName);
  const values: Record<number, string | number> = {};
  if (formId === 1) {
    values[4] = people;
    if (random() < 0.5) values[5] = random() < 0.5 ? 'yes' : 'no';
  } else if (formId === 2) {
    values[10] = `+509 3${Math.floor(random() * 1e7).toString().padStart(7, '0')}`;
  }
  const hasLocation = formId !== null || random() < 0.5;
  const post: FakePost = {
    id,
    formId,
    userId: random() < 0.1 ? 2 : random() < 0.2 ? 3 : null,
    status,
    title,
    content: template.content(placeName, people),
    slug: `${slugify(title) || 'post'}-${id.toString(16)}`,
    postDate: ctx.created - Math.floor(random() * 3600),
    created: ctx.created,
    updated: random() < 0.15 ? ctx.created + 600 + Math.floor(random() * 86400) : null,
    source: formId === 2 ? 'sms' : pick(SOURCES),
    locale: template.locale,
    baseLanguage: template.locale.slice(0, 2),
    authorEmail: random() < 0.3 ? `reporter${id}@example.net` : null,
    authorRealname: random() < 0.3 ? 'Jean-Baptiste Pierre' : null,
    categoryIds: template.categories.filter(() => random() < 0.9),
    location: hasLocation
      ? {
          id: 10_000 + id,
          name: placeName,
          lat: Math.round((lat + (random() - 0.5) / 100) * 1e6) / 1e6,
          lon: Math.round((lon + (random() - 0.5) / 100) * 1e6) / 1e6,
        }
      : null,
    values,
    translations:
      template.locale === 'en_us' && random() < 0.2
        ? { fr: { title: `[fr] ${title}`, content: `[fr] ${template.content(placeName, people)}` } }
        : {},
    verified: random() < 0.3,
    media:
      random() < 0.1
        ? [
            { id: id * 10 + 1, type: 1, link: `${id}_1_${ctx.created}.jpg`, thumb: `${id}_1_${ctx.created}_t.jpg` },
            { id: id * 10 + 2, type: 4, link: `http://news.example.com/story/${id}`, thumb: null },
          ]
        : [],
    comments:
      random() < 0.1
        ? [
            {
              id: id * 10,
              author: 'Relief desk',
              email: 'desk@example.org',
              description: 'Forwarded to the cluster lead',
              ip: '10.0.0.5',
              spam: false,
              active: true,
              date: ctx.created + 900,
            },
          ]
        : [],
    ...overrides,
  };
  return post;
}

export function seedPosts(state: FakeState, count: number, random: () => number): void {
  let created = SEED_EPOCH;
  for (let i = 0; i < count; i++) {
    created += 5 + Math.floor(random() * 60);
    state.insertPost(generatePost(state.nextPostId(), { state, random, created }));
  }
}
