/**
 * The values an Eden or Sluice peer lists for a field (`GET {peer}/<prefix>/<name>/options.xml?field=`,
 * reference §1.9), for the mapping editor's "remote values". Asked while a person waits, so: one
 * attempt, a short timeout, the repository's credentials and proxy, and a message that says the
 * peer cannot be reached rather than a stack of retries. Read-only: nothing is logged as a run.
 */
import { SaxesParser } from 'saxes';
import { asSluiceError, SluiceError } from '../errors.js';
import type { SecretBox } from '../secrets.js';
import type { Store } from '../store/store.js';
import { peerSettings } from './peer-settings.js';
import type { PeerTransport } from './transport.js';

export const PEER_OPTIONS_TIMEOUT_MS = 10_000;
/** An options list is small; a peer answering megabytes is answering something else. */
const MAX_OPTIONS_BYTES = 4 * 1024 * 1024;

export interface PeerOption {
  value: string;
  text?: string;
}

export interface PeerOptionsDeps {
  store: Store;
  secrets: SecretBox;
  transport: PeerTransport;
  timeoutMs?: number;
  /** The gateway's default proxy, used when the repository has none. */
  defaultProxy?: () => Promise<string | undefined>;
}

export type PeerOptionsLookup = (repository: string, resource: string, field: string) => Promise<PeerOption[]>;

/** The options of `field` in an options.xml answer: a bare `<select>` or `<options><select name>…`. */
export function parseOptionsXml(xml: string, field: string): PeerOption[] {
  const parser = new SaxesParser();
  const options: PeerOption[] = [];
  let inField = false;
  let current: { value: string; text: string } | undefined;
  parser.on('doctype', () => {
    throw new SluiceError('PEER_BAD_RESPONSE', 'the peer\'s options.xml has a DOCTYPE', { status: 502 });
  });
  parser.on('opentag', (tag) => {
    if (tag.name === 'select') inField = (tag.attributes.name as string | undefined) === undefined || tag.attributes.name === field;
    else if (tag.name === 'option' && inField) current = { value: String(tag.attributes.value ?? ''), text: '' };
  });
  parser.on('text', (text) => {
    if (current) current.text += text;
  });
  parser.on('closetag', (tag) => {
    if (tag.name === 'option' && current) {
      const text = current.text.trim();
      // Eden lists an empty first option ("-") for "no value"; it is not a value to map.
      if (current.value !== '') options.push(text === '' || text === current.value ? { value: current.value } : { value: current.value, text });
      current = undefined;
    } else if (tag.name === 'select') {
      inField = false;
    }
  });
  try {
    parser.write(xml).close();
  } catch (error) {
    throw new SluiceError('PEER_BAD_RESPONSE', `the peer's options.xml is not XML: ${asSluiceError(error).message}`, { status: 502, cause: error });
  }
  return options;
}

function unreachable(name: string, error: unknown): SluiceError {
  const failure = asSluiceError(error);
  return new SluiceError(failure.code, `${name} cannot be reached to list its values (${failure.code}: ${failure.message})`, {
    status: 502,
    cause: error,
    fix: 'The values captured from earlier runs are still listed; check the repository\'s URL, proxy and that the peer is up',
  });
}

export function peerOptionsLookup(deps: PeerOptionsDeps): PeerOptionsLookup {
  return async (repositoryUuid, resource, field) => {
    const repository = await deps.store.getRepository(repositoryUuid);
    if (!repository) throw new SluiceError('REPOSITORY_NOT_FOUND', `There is no repository ${repositoryUuid}`, { status: 404 });
    if (!repository.url) throw new SluiceError('NO_REPOSITORY_URL', `Repository ${repository.name} has no URL`, { status: 400, fix: 'Set the URL of the repository' });
    const separator = resource.indexOf('_');
    if (separator <= 0 || separator === resource.length - 1) {
      throw new SluiceError('BAD_PARAMETER', `"${resource}" is not a table name (prefix_name)`, { status: 400 });
    }
    const settings = peerSettings(repository);
    const password = settings.password === undefined ? undefined : deps.secrets.open(settings.password, repository.uuid);
    const proxy = settings.proxy ?? (await deps.defaultProxy?.());
    const headers: Record<string, string> = { accept: 'application/xml' };
    if (settings.username !== undefined && password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${settings.username}:${password}`).toString('base64')}`;
    }
    const path = `/${encodeURIComponent(resource.slice(0, separator))}/${encodeURIComponent(resource.slice(separator + 1))}/options.xml`;
    const url = `${repository.url.replace(/\/+$/, '')}${path}?${new URLSearchParams({ field }).toString()}`;
    let response;
    try {
      response = await deps.transport({
        method: 'GET',
        url,
        headers,
        timeoutMs: Math.min(deps.timeoutMs ?? PEER_OPTIONS_TIMEOUT_MS, PEER_OPTIONS_TIMEOUT_MS),
        ...(proxy ? { proxy } : {}),
      });
    } catch (error) {
      throw unreachable(repository.name, error);
    }
    if (response.status !== 200) {
      throw new SluiceError('PEER_OPTIONS_FAILED', `${repository.name} answered HTTP ${response.status} to options.xml of ${resource}.${field}`, {
        status: 502,
        fix: response.status === 401 || response.status === 403 ? 'Check the user name and password of the repository' : 'The peer may not know this table or field; check the names',
      });
    }
    if (response.body.length > MAX_OPTIONS_BYTES) {
      throw new SluiceError('PEER_BAD_RESPONSE', `${repository.name} answered ${response.body.length} bytes to options.xml`, { status: 502 });
    }
    return parseOptionsXml(response.body.toString('utf8'), field);
  };
}
