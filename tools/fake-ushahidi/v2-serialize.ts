import { xmlEscape } from './http-util.js';
import type { FakeCategory, FakePost, FakeState } from './state.js';

/**
 * Classic v2 shapes. Every scalar is a string (the MySQL driver returns strings); the JSON and
 * XML element names differ; XML is written on one line.
 */

const wallFormatters = new Map<string, Intl.DateTimeFormat>();

/** `YYYY-MM-DD HH:MM:SS` in the deployment's `site_timezone`, no zone in the text. */
export function siteLocalDate(epochSeconds: number, timeZone: string): string {
  let formatter = wallFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallFormatters.set(timeZone, formatter);
  }
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(new Date(epochSeconds * 1000))) parts[part.type] = part.value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

const MODE: Record<FakePost['source'], string> = { web: '1', sms: '2', email: '3', twitter: '4' };

/** v2 custom field types: 1 text field, 5 radio. */
const FIELD_TYPE: Record<string, string> = { int: '1', varchar: '1' };

export interface IncidentView {
  id: string;
  title: string;
  description: string;
  date: string;
  mode: string;
  active: string;
  verified: string;
  location: { id: string; name: string; latitude: string; longitude: string } | null;
  categories: Array<{ id: string; title: string }>;
  media: Array<{ id: string; type: string; link: string; thumb: string | null; thumb_url?: string; link_url?: string }>;
  comments: Array<Record<string, string | null>>;
  customFields: Array<Record<string, string>>;
}

export function incidentView(post: FakePost, state: FakeState, domain: string, timeZone: string, withComments: boolean): IncidentView {
  const categories = post.categoryIds
    .map((id) => state.categories.get(id))
    .filter((c): c is FakeCategory => c !== undefined)
    .map((c) => ({ id: String(c.id), title: c.tag }));
  const form = post.formId === null ? undefined : state.forms.get(post.formId);
  const customFields: Array<Record<string, string>> = [];
  for (const field of form?.fields ?? []) {
    const value = post.values[field.id];
    if (value === undefined) continue;
    customFields.push({
      field_id: String(field.id),
      form_id: String(form!.id),
      field_name: field.label,
      field_type: field.input === 'radio' ? '5' : (FIELD_TYPE[field.type] ?? '1'),
      field_default: field.options.join(','),
      field_required: '0',
      field_maxlength: '0',
      field_height: '5',
      field_width: '0',
      field_isdate: '0',
      field_ispublic_visible: '0',
      field_ispublic_submit: '0',
      field_response: String(value),
    });
  }
  return {
    id: String(post.id),
    title: post.title,
    description: post.content,
    date: siteLocalDate(post.postDate, timeZone),
    mode: MODE[post.source],
    active: post.status === 'published' ? '1' : '0',
    verified: post.verified ? '1' : '0',
    location: post.location
      ? {
          id: String(post.location.id),
          name: post.location.name,
          latitude: String(post.location.lat),
          longitude: String(post.location.lon),
        }
      : null,
    categories,
    media: post.media.map((m) => {
      const item: IncidentView['media'][number] = { id: String(m.id), type: String(m.type), link: m.link, thumb: m.thumb };
      if (m.type === 1 && m.thumb) {
        item.thumb_url = `${domain}media/uploads/${m.thumb}`;
        item.link_url = `${domain}media/uploads/${m.link}`;
      }
      return item;
    }),
    comments: withComments
      ? post.comments
          .filter((c) => !c.spam)
          .map((c) => ({
            id: String(c.id),
            incident_id: String(post.id),
            user_id: '0',
            comment_author: c.author,
            comment_email: c.email,
            comment_description: c.description,
            comment_ip: c.ip,
            comment_spam: '0',
            comment_active: c.active ? '1' : '0',
            comment_date: siteLocalDate(c.date, timeZone),
            comment_date_gmt: new Date(c.date * 1000).toISOString().slice(0, 19).replace('T', ' '),
          }))
      : [],
    customFields,
  };
}

export function incidentJson(view: IncidentView): Record<string, unknown> {
  return {
    incident: {
      incidentid: view.id,
      incidenttitle: view.title,
      incidentdescription: view.description,
      incidentdate: view.date,
      incidentmode: view.mode,
      incidentactive: view.active,
      incidentverified: view.verified,
      locationid: view.location?.id ?? '0',
      locationname: view.location?.name ?? null,
      locationlatitude: view.location?.latitude ?? null,
      locationlongitude: view.location?.longitude ?? null,
    },
    categories: view.categories.map((category) => ({ category })),
    media: view.media,
    comments: view.comments.map((comment) => ({ comment })),
    // PHP's json_encode of an empty array is `[]`, of a keyed one an object.
    customfields: view.customFields.length === 0 ? [] : Object.fromEntries(view.customFields.map((f) => [f.field_id, f])),
  };
}

/** Ushahidi 1.0 JSON: no categories, comments or custom fields; media with other key names. */
export function incidentJsonV1(view: IncidentView): Record<string, unknown> {
  const { incident } = incidentJson(view) as { incident: Record<string, unknown> };
  return {
    incident,
    media: view.media.map((m) => ({ mediaid: m.id, mediatitle: '', mediatype: m.type, medialink: m.link, mediathumb: m.thumb ?? '' })),
  };
}

const el = (name: string, text: string | null | undefined): string =>
  text === null || text === undefined || text === '' ? `<${name}></${name}>` : `<${name}>${xmlEscape(text)}</${name}>`;

export function incidentXml(view: IncidentView): string {
  let xml = `<incident>${el('id', view.id)}${el('title', view.title)}${el('description', view.description)}${el('date', view.date)}`;
  xml += `${el('mode', view.mode)}${el('active', view.active)}${el('verified', view.verified)}`;
  xml += `<location>${el('id', view.location?.id ?? '0')}${el('name', view.location?.name)}${el('latitude', view.location?.latitude)}${el('longitude', view.location?.longitude)}</location>`;
  xml += view.categories.length === 0 ? '<categories/>' : `<categories>${view.categories.map((c) => `<category>${el('id', c.id)}${el('title', c.title)}</category>`).join('')}</categories>`;
  xml +=
    view.comments.length === 0
      ? '<comments/>'
      : `<comments>${view.comments
          .map((c) => `<comment>${['id', 'comment_author', 'comment_email', 'comment_description', 'comment_date'].map((k) => el(k, c[k])).join('')}</comment>`)
          .join('')}</comments>`;
  if (view.media.length > 0) {
    xml += `<mediaItems>${view.media
      .map((m) => {
        let item = `<media>${el('id', m.id)}${el('type', m.type)}${el('link', m.link)}${el('thumb', m.thumb)}`;
        if (m.thumb_url) item += `${el('thumb_url', m.thumb_url)}${el('link_url', m.link_url)}`;
        return `${item}</media>`;
      })
      .join('')}</mediaItems>`;
  }
  if (view.customFields.length > 0) {
    xml += `<customFields>${view.customFields.map((f) => `<field>${Object.entries(f).map(([k, v]) => el(k, v)).join('')}</field>`).join('')}</customFields>`;
  }
  return `${xml}</incident>`;
}
