import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseXslt3Errors } from '../../../src/transform/compile/xslt3-export.js';

describe('xslt3 compiler error parsing', () => {
  it('reads code, line and module from an XSLT static error', () => {
    assert.deepEqual(parseXslt3Errors('Error XTSE0650 on line 4 in fmt/main.xsl:\n  Named template Q{}missing does not exist\nFailed to compile stylesheet\n'), {
      xsltCode: 'XTSE0650',
      message: 'Named template Q{}missing does not exist',
      line: 4,
      moduleHint: 'fmt/main.xsl',
    });
  });

  it('reads the location from inside an XPath error message', () => {
    assert.deepEqual(parseXslt3Errors('Error XPST0008:\n  Static error in XPath on line 5 in fmt/main.xsl {$undeclared}: No binding for variable Q{}undeclared\nFailed to compile stylesheet'), {
      xsltCode: 'XPST0008',
      message: 'No binding for variable Q{}undeclared',
      line: 5,
      moduleHint: 'fmt/main.xsl',
    });
  });

  it('turns an XML parse failure into a 1-based line in the named file', () => {
    assert.deepEqual(parseXslt3Errors('Error FODC0002:\n  Failed parsing XML in file:///s/x.xsl: Unexpected close tag at line 0 column 10\nFailed to compile stylesheet'), {
      xsltCode: 'FODC0002',
      message: 'Unexpected close tag',
      line: 1,
      moduleHint: 'file:///s/x.xsl',
    });
  });

  it('keeps whatever the compiler said when it is in no known shape', () => {
    assert.deepEqual(parseXslt3Errors('Something odd happened\nFailed to compile stylesheet'), { xsltCode: 'SXJS0000', message: 'Something odd happened' });
  });
});
