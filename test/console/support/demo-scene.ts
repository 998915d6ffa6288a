/**
 * A console with something on every page: two gateways with demo data, a peer added
 * fingerprint-first with three tasks and a schedule, a real sync run (captured exchanges, log), a
 * failing repository, an open conflict, a mapping with two versions, and one user per role.
 * Used by the page tests and by tools/screenshots.ts.
 */
import { ADMIN, basicAuth } from '../../support/gateway.js';
import { textData } from '../../support/records.js';
import type { S3Resource } from '../../../src/s3xml/model.js';
import { startConsoleGateway, type ConsoleGateway } from './console-gateway.js';

export const DEMO_INSTANCE = 'pokhara-gateway';
export const FAILING_REPOSITORY = 'urn:uuid:3c9e2f10-5d1b-4e7a-9b0c-2f6d8a4e1b77';
const CONFLICT_RECORD = 'urn:uuid:0e0d1c5a-2222-4a55-9f0e-000000000001';

export interface DemoScene {
  here: ConsoleGateway;
  peer: ConsoleGateway;
  repository: string;
  runId: string;
  conflictId: number;
  stop(): Promise<void>;
}

const MAPPING_V1 = {
  instance: DEMO_INSTANCE,
  description: 'How the Pokhara gateway names incident statuses and hospital types',
  unmapped: { policy: 'pass' },
  resources: [
    {
      local: 'event_incident_report',
      fields: [{ local: 'status', inbound: { values: { new: 'new', verified: 'verified' } } }],
    },
  ],
};

const MAPPING_V2 = {
  ...MAPPING_V1,
  resources: [
    {
      local: 'event_incident_report',
      fields: [
        { local: 'status', inbound: { values: { new: 'new', verified: 'verified', actionable: 'actionable' }, unmapped: { policy: 'default', default: 'new' } } },
        { local: 'comments', remote: 'description' },
      ],
    },
    { local: 'med_hospital', fields: [{ local: 'facility_type', inbound: { values: { '1': '1', '13': '13' } } }] },
  ],
};

async function putMapping(gateway: ConsoleGateway, document: unknown): Promise<void> {
  const response = await fetch(`${gateway.url}/api/mappings/${DEMO_INSTANCE}`, {
    method: 'PUT',
    headers: { authorization: basicAuth(ADMIN.user, ADMIN.password), 'content-type': 'application/json' },
    body: JSON.stringify(document),
  });
  if (!response.ok) throw new Error(`saving the demo mapping failed: ${response.status} ${await response.text()}`);
}

export async function buildDemoScene(): Promise<DemoScene> {
  const [here, peer] = await Promise.all([
    startConsoleGateway({ name: 'Kathmandu hub', demo: true }),
    startConsoleGateway({ name: 'Pokhara gateway', demo: true, users: false }),
  ]);
  try {
    const added = await here.sync.repositories.add({ name: 'Pokhara gateway', url: peer.url, username: ADMIN.user, password: ADMIN.password });
    const repository = added.uuid;
    await here.sync.tasks.add(repository, 'event_incident_report', { mode: 'pull' });
    await here.sync.tasks.add(repository, 'org_organisation', { mode: 'pull', filters: ['~.acronym__ne=NONE'] });
    await here.sync.tasks.add(repository, 'med_hospital', { mode: 'both', update_policy: 'NEWER', conflict_policy: 'MASTER' });
    await here.sync.tasks.setSchedule(repository, { interval_seconds: 600 });
    const outcome = await here.sync.syncNow(repository, { trigger: `manual:${ADMIN.user}` });

    // An Eden peer that cannot be reached: its run failed, so it comes first on the dashboard.
    await here.store.putRepository({
      uuid: FAILING_REPOSITORY,
      name: 'Sindhupalchok Eden',
      apitype: 'eden',
      url: 'https://eden.sindhupalchok.example.org/eden',
      config: { software: 'eden', accept_push: true, username: 'sync@sindhupalchok.example.org' },
      created_at: '2024-05-01T08:00:00',
      updated_at: '2024-05-01T08:00:00',
    });
    await here.sync.tasks.add(FAILING_REPOSITORY, 'org_office', { mode: 'both' });
    await here.sync.tasks.setSchedule(FAILING_REPOSITORY, { cron: '*/30 * * * *' });
    const started = outcome.run.started_at;
    await here.store.putRun({
      id: 'b7c1d2e3-0000-4000-8000-000000000001',
      kind: 'sync',
      repository: FAILING_REPOSITORY,
      job: `sync:${FAILING_REPOSITORY}`,
      trigger: 'schedule',
      status: 'fatal',
      started_at: started,
      finished_at: started,
      duration_ms: 1840,
      counts: { tasks: 1 },
      bytes_in: 312,
      bytes_out: 0,
      message: 'PEER_AUTH_FAILED: pull org_office: the peer refused the credentials (HTTP 401)',
      captures: [],
    });
    await here.store.appendLog({
      timestmp: started,
      repository: FAILING_REPOSITORY,
      resource: 'org_office',
      mode: 'pull/outgoing',
      action: 'import',
      result: 'fatal',
      remote: true,
      message: 'PEER_AUTH_FAILED: pull org_office: the peer refused the credentials (HTTP 401) (Check the user name and password of the repository)',
      run_id: 'b7c1d2e3-0000-4000-8000-000000000001',
    });

    // An update the policy did not settle.
    const local = await here.store.putRecord({
      resource: 'org_office',
      uuid: CONFLICT_RECORD,
      mci: 0,
      modified_on: started,
      deleted: false,
      attributes: {},
      data: [textData('name', 'Gorkha District Office'), textData('phone1', '+977 64 420 111'), textData('comments', 'Open 9-17, closed Saturdays')],
      references: [],
    });
    const remote: S3Resource = {
      name: 'org_office',
      uuid: CONFLICT_RECORD,
      mci: 2,
      modified_on: started,
      attributes: {},
      data: [textData('name', 'Gorkha Municipal Office'), textData('phone1', '+977 64 420 999'), textData('comments', 'Open 9-17, closed Saturdays')],
      references: [],
      components: [],
    };
    const conflict = await here.store.addConflict({
      resource: 'org_office',
      uuid: CONFLICT_RECORD,
      repository,
      method: 'update',
      policy: 'MASTER',
      local,
      remote,
      fields: ['name', 'phone1'],
      created_at: started,
    });

    await putMapping(here, MAPPING_V1);
    await putMapping(here, MAPPING_V2);
    const record = await here.store.getRepository(repository);
    await here.store.putRepository({ ...record!, config: { ...record!.config, mapping: DEMO_INSTANCE } });

    return {
      here,
      peer,
      repository,
      runId: outcome.run.id,
      conflictId: conflict.id,
      async stop() {
        await here.stop();
        await peer.stop();
      },
    };
  } catch (error) {
    await here.stop();
    await peer.stop();
    throw error;
  }
}
