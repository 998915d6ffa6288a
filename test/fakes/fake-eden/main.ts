/**
 * Runs the fake Eden alone: `node --import tsx test/fakes/fake-eden/main.ts --port 8091 --records 100`.
 */
import { parseArgs } from 'node:util';
import { createFakeEden } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8091' },
    host: { type: 'string', default: '127.0.0.1' },
    records: { type: 'string', default: '20' },
  },
});
const eden = await createFakeEden({ port: Number(values.port), host: values.host });
const organisation = eden.state.upsert('org_organisation', { name: 'Himal Relief', acronym: 'HR' });
for (let i = 0; i < Number(values.records); i++) {
  eden.state.upsert('org_office', { name: `Office ${i + 1}`, obsolete: { value: 'false', text: 'No' } }, {
    references: { organisation_id: { table: 'org_organisation', uuid: organisation.uuid } },
  });
}
process.stdout.write(`fake Eden at ${eden.url} (uuid ${eden.state.configUuid}); user ${eden.admin.email} / ${eden.admin.password}\n`);
const stop = () => void eden.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
