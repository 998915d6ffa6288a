import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import { admitXmlInput, decodeXml, hasDoctype } from '../../src/transform/input-guard.js';

describe('transform input guard', () => {
  it('finds a DOCTYPE after the declaration, comments and processing instructions, and only in the prolog', () => {
    assert.equal(hasDoctype('<?xml version="1.0"?>\n<!-- hi --><?pi x?>\n<!doctype x><x/>'), true);
    assert.equal(hasDoctype('\uFEFF<!DOCTYPE x SYSTEM "http://evil/x.dtd"><x/>'), true);
    assert.equal(hasDoctype('<x><![CDATA[<!DOCTYPE y>]]></x>'), false);
    assert.equal(hasDoctype('<x>&lt;!DOCTYPE</x>'), false);
  });

  it('decodes by byte order mark, then by the declared encoding, else as UTF-8', () => {
    assert.equal(decodeXml(Buffer.from('\uFEFF<a>é</a>', 'utf8')), '<a>é</a>');
    assert.equal(decodeXml(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a>é</a>', 'utf16le')])), '<a>é</a>');
    assert.equal(decodeXml(Buffer.from('<?xml version="1.0" encoding="windows-1252"?><a>é</a>', 'latin1')), '<?xml version="1.0" encoding="windows-1252"?><a>é</a>');
    assert.equal(decodeXml(Buffer.from('<a>é</a>', 'utf8')), '<a>é</a>');
  });

  it('refuses input over the limit, counting bytes not characters', () => {
    assert.equal(admitXmlInput('<a>é</a>', 9), '<a>é</a>');
    assert.throws(() => admitXmlInput('<a>éé</a>', 9), (error) => isSluiceError(error) && error.code === 'XSLT_INPUT_TOO_LARGE' && error.details['bytes'] === 11);
  });
});
