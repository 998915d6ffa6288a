/**
 * Small generated S3XML documents for the sync tests: organisations, offices referencing them,
 * updates, deletion stubs and merge stubs, with the timestamps the test chooses.
 */
export function orgUuid(side: string, i: number): string {
  return `urn:uuid:${side}-org-${i}`;
}

export function officeUuid(side: string, i: number): string {
  return `urn:uuid:${side}-office-${i}`;
}

export function organisationsXml(side: string, count: number, modifiedOn: string): string {
  let xml = '<s3xml>';
  for (let i = 0; i < count; i++) {
    xml += `<resource name="org_organisation" uuid="${orgUuid(side, i)}" mci="1" created_on="${modifiedOn}" modified_on="${modifiedOn}"><data field="name">Organisation ${side}${i}</data><data field="acronym">${side.toUpperCase()}${i}</data></resource>`;
  }
  return `${xml}</s3xml>`;
}

export function officeXml(side: string, i: number, modifiedOn: string, name = `Office ${side} ${i}`, organisations = 20): string {
  return (
    `<resource name="org_office" uuid="${officeUuid(side, i)}" mci="1" created_on="2024-01-01T00:00:00" modified_on="${modifiedOn}">` +
    `<data field="name">${name}</data><data field="code">${side.toUpperCase()}-${i}</data><data field="obsolete" value="false">No</data>` +
    `<reference field="organisation_id" resource="org_organisation" uuid="${orgUuid(side, i % organisations)}">Organisation ${side}${i % organisations}</reference>` +
    `</resource>`
  );
}

export function officesXml(side: string, from: number, to: number, modifiedOn: string, name?: (i: number) => string): string {
  let xml = '<s3xml>';
  for (let i = from; i < to; i++) xml += officeXml(side, i, modifiedOn, name?.(i));
  return `${xml}</s3xml>`;
}

export function deletionsXml(resource: string, uuids: string[], modifiedOn: string): string {
  return `<s3xml>${uuids.map((uuid) => `<resource name="${resource}" uuid="${uuid}" deleted="True" modified_on="${modifiedOn}"/>`).join('')}</s3xml>`;
}

export function mergesXml(resource: string, pairs: [loser: string, winner: string][], modifiedOn: string): string {
  return `<s3xml>${pairs
    .map(([loser, winner]) => `<resource name="${resource}" uuid="${loser}" deleted="True" replaced_by="${winner}" modified_on="${modifiedOn}"/>`)
    .join('')}</s3xml>`;
}
