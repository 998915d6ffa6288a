/**
 * The XSD gate around CAP, HAVE and DE: documents are checked on the way in (before the import
 * stylesheet sees them) and on the way out (before they are sent), against the official schema
 * that matches their root element. An EDXL-DE envelope is checked with the driver schema, so a
 * broken CAP or HAVE payload inside it is caught too.
 */
import { SaxesParser } from 'saxes';
import { SluiceError } from '../errors.js';
import type { FormatDeclaration } from './registry.js';
import { assertValid, type SchemaName, type XsdValidator } from './xsd.js';

const ROOTS: Record<string, SchemaName> = {
  '{urn:oasis:names:tc:emergency:cap:1.2}alert': 'cap',
  '{urn:oasis:names:tc:emergency:EDXL:HAVE:1.0}HospitalStatus': 'have',
  '{urn:oasis:names:tc:emergency:EDXL:DE:1.0}EDXLDistribution': 'de',
};

class RootFound extends Error {
  constructor(readonly root: string) {
    super(root);
  }
}

/** `{namespace}local` of the root element, read without parsing the rest of the document. */
export function rootElementName(xml: string): string | undefined {
  const parser = new SaxesParser({ xmlns: true });
  parser.on('opentag', (tag) => {
    throw new RootFound(`{${tag.uri}}${tag.local}`);
  });
  try {
    parser.write(xml).close();
  } catch (error) {
    if (error instanceof RootFound) return error.root;
    return undefined;
  }
  return undefined;
}

/** The schema for a CAP alert, a HAVE HospitalStatus or a DE distribution; undefined otherwise. */
export function schemaForDocument(xml: string): SchemaName | undefined {
  const root = rootElementName(xml);
  return root === undefined ? undefined : ROOTS[root];
}

/**
 * Throws XSD_INVALID (with every error in `details.errors`) when a format that declares XSD
 * checks receives or produces a document its schema rejects, and XSD_UNEXPECTED_ROOT when the
 * document is not a CAP, HAVE or DE document at all. Formats without XSD checks pass.
 */
export async function checkFormatDocument(
  format: FormatDeclaration,
  xml: string,
  direction: 'inbound' | 'outbound',
  validator: XsdValidator,
): Promise<void> {
  if (!format.xsd?.[direction]) return;
  const schema = schemaForDocument(xml);
  if (!schema) {
    throw new SluiceError(
      'XSD_UNEXPECTED_ROOT',
      `A ${format.label} document must be a CAP alert, a HAVE HospitalStatus or an EDXL-DE distribution; got ${rootElementName(xml) ?? 'no XML root'}`,
      { status: direction === 'inbound' ? 422 : 500, fix: 'Send the document with its namespace, e.g. urn:oasis:names:tc:emergency:cap:1.2' },
    );
  }
  const what = direction === 'inbound' ? `The received ${format.label} document` : `The ${format.label} export`;
  assertValid(await validator.validate(xml, schema), what);
}
