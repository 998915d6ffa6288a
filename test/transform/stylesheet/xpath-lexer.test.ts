import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitAttributeValueTemplate, xpathReferences } from '../../../src/transform/stylesheet/xpath-lexer.js';

describe('XPath lexer', () => {
  it('finds referenced variables but not those the expression binds itself', () => {
    const references = xpathReferences('for $item in $list return $item + $x[some $y in z satisfies $y]');
    // Uses of a bound variable are listed too; the module scan counts bound names as declared.
    assert.deepEqual(references.variables, ['list', 'item', 'x', 'y']);
    assert.deepEqual(references.bound.sort(), ['item', 'y']);
    assert.deepEqual(xpathReferences('let $k := 1 return $k').bound, ['k']);
    assert.deepEqual(xpathReferences('function($member as item()) { $member }').bound, ['member']);
  });

  it('ignores what looks like code inside string literals and comments', () => {
    const references = xpathReferences(`concat('$notvar', "doc('x')", 'it''s') (: unparsed-text('/etc/passwd') :)`);
    assert.deepEqual(references.variables, []);
    assert.deepEqual(
      references.calls.map((call) => call.name),
      ['concat'],
    );
  });

  it('reports function calls with their literal first argument', () => {
    const { calls } = xpathReferences(`document('../labels.xml')/x[key('k', @a)] | doc(concat('/etc/', $f)) | fn:document('')`);
    assert.deepEqual(
      calls.map((call) => [call.name, call.literalArgument]),
      [
        ['document', '../labels.xml'],
        ['key', 'k'],
        ['doc', undefined],
        ['concat', '/etc/'],
        ['fn:document', ''],
      ],
    );
  });

  it('does not take node tests or attribute names for function calls', () => {
    const { calls } = xpathReferences('text() | node() | @doc | element(x) | item');
    assert.deepEqual(calls, []);
  });

  it('reports named function references such as doc#1', () => {
    assert.deepEqual(xpathReferences('unparsed-text#1("x")').functionReferences, ['unparsed-text']);
  });

  it('splits attribute value templates, honouring doubled braces and braces in strings', () => {
    assert.deepEqual(splitAttributeValueTemplate('a{{b}}{concat("}", $x)}c{.}'), [
      { kind: 'text', text: 'a{b}' },
      { kind: 'expression', expression: 'concat("}", $x)', start: 7, end: 22 },
      { kind: 'text', text: 'c' },
      { kind: 'expression', expression: '.', start: 25, end: 26 },
    ]);
  });
});
