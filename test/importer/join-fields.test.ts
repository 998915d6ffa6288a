import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JoinFields, referenceTo, singleUuid } from '../../src/importer/join-fields.js';
import { ref, seed, storeKinds, withStore } from './support.js';

const organisation = { resource: 'org_organisation', uuid: 'org-1' };

describe('references to one record', () => {
  it('match only a single uuid of the right table, never a list or a tuid', () => {
    const single = ref('organisation_id', 'org_organisation', { uuid: 'org-1' });
    assert.equal(referenceTo([ref('organisation_id', 'org_organisation', { uuid: ['org-1'] }), single], organisation), single);
    assert.equal(referenceTo([ref('site_id', 'org_site', { uuid: 'org-1' })], organisation), undefined);
    assert.equal(singleUuid(ref('x', 'y', { tuid: 'T' })), undefined);
    assert.equal(singleUuid(ref('x', 'y', { uuid: ' u ' })), 'u');
  });
});

for (const kind of storeKinds) {
  describe(`join fields on the ${kind.name}`, () => {
    it(
      'come from the record\'s own reference to its master before anything else',
      withStore(kind, async (store) => {
        const joins = new JoinFields(store);
        const own = [ref('owner_org_id', 'org_organisation', { uuid: 'org-1' })];
        assert.equal(await joins.fieldOf('org_office', organisation, own), 'owner_org_id');
      }),
    );

    it(
      'come from Eden\'s declarations for common components, but not for aliased ones',
      withStore(kind, async (store) => {
        const joins = new JoinFields(store);
        assert.equal(await joins.fieldOf('org_office', organisation, []), 'organisation_id');
        assert.equal(await joins.fieldOf('med_bed_capacity', { resource: 'med_hospital', uuid: 'h' }, []), 'hospital_id');
        assert.equal(await joins.fieldOf('org_office', { ...organisation, alias: 'branch' }, []), undefined);
      }),
    );

    it(
      'are learned from top-level records of the table that reference the master\'s table under one field only',
      withStore(kind, async (store) => {
        await seed(store, [
          { resource: 'project_activity', uuid: 'a1', references: [ref('project_id', 'project_project', { uuid: 'p1' }), ref('location_id', 'gis_location', { uuid: 'l1' })] },
          { resource: 'project_activity', uuid: 'a2', references: [ref('project_id', 'project_project', { uuid: 'p2' })] },
          { resource: 'pr_contact', uuid: 'c1', references: [ref('person_id', 'pr_person', { uuid: 'x' })] },
          { resource: 'pr_contact', uuid: 'c2', references: [ref('other_person_id', 'pr_person', { uuid: 'y' })] },
        ]);
        const joins = new JoinFields(store);
        assert.equal(await joins.fieldOf('project_activity', { resource: 'project_project', uuid: 'p9' }, []), 'project_id');
        assert.equal(await joins.fieldOf('pr_contact', { resource: 'pr_person', uuid: 'z' }, []), undefined, 'two candidate fields: unknown');
        assert.equal(await joins.fieldOf('event_sitrep', { resource: 'event_event', uuid: 'e' }, []), undefined, 'nothing to learn from');
        assert.equal(await joins.mayBeImplied('project_activity', 'project_id'), true);
        assert.equal(await joins.mayBeImplied('project_activity', 'name'), false);
      }),
    );
  });
}
