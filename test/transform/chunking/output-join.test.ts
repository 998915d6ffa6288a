import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../../src/errors.js';
import { TextFrameJoiner, XmlRootJoiner } from '../../../src/transform/chunking/output-join.js';

function join(joiner: { add(output: string): string; finish(): string }, outputs: string[]): string {
  return outputs.map((output) => joiner.add(output)).join('') + joiner.finish();
}

describe('joining batch outputs', () => {
  it('keeps the first prolog and root tag and the content of every batch root', () => {
    const outputs = ['<?xml version="1.0"?><s3xml a="1"><r>1</r></s3xml>', '<?xml version="1.0"?><s3xml a="1"><r>2</r>\n</s3xml>'];
    assert.equal(join(new XmlRootJoiner(), outputs), '<?xml version="1.0"?><s3xml a="1"><r>1</r><r>2</r>\n</s3xml>');
  });

  it('skips empty batch roots and keeps an all-empty result self-closed', () => {
    assert.equal(join(new XmlRootJoiner(), ['<s3xml/>', '<s3xml><r/></s3xml>', '<s3xml/>']), '<s3xml><r/></s3xml>');
    assert.equal(join(new XmlRootJoiner(), ['<?xml version="1.0"?><s3xml success="false"/>']), '<?xml version="1.0"?><s3xml success="false"/>');
  });

  it('refuses batches with different roots', () => {
    const joiner = new XmlRootJoiner();
    joiner.add('<a><x/></a>');
    assert.throws(() => joiner.add('<b><x/></b>'), (error) => isSluiceError(error) && error.code === 'XSLT_CHUNK_JOIN_FAILED');
  });

  it('writes a text header and footer once around the batch bodies', () => {
    const frame = 'name\n-- end\n';
    const outputs = ['name\na\nb\n-- end\n', 'name\nc\n-- end\n'];
    assert.equal(join(new TextFrameJoiner(frame), outputs), 'name\na\nb\nc\n-- end\n');
  });

  it('joins text bodies that begin like the footer', () => {
    const frame = 'H\nEND\n';
    assert.equal(join(new TextFrameJoiner(frame), ['H\nEX\nEND\n', 'H\nEY\nEND\n']), 'H\nEX\nEY\nEND\n');
  });

  it('gives the frame alone when there were no batches', () => {
    assert.equal(new TextFrameJoiner('header\n').finish(), 'header\n');
  });

  it('refuses a text batch that lacks the frame', () => {
    assert.throws(() => new TextFrameJoiner('header\n').add('rows only\n'), (error) => isSluiceError(error) && error.code === 'XSLT_CHUNK_JOIN_FAILED');
  });
});
