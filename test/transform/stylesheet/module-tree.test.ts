import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isSluiceError } from '../../../src/errors.js';
import { analyzeModule, applyEdits, loadStylesheetTree } from '../../../src/transform/stylesheet/module-tree.js';
import { scratchDir } from '../helpers.js';

const XSL = (version: string, body: string, namespaces = ''): string =>
  `<xsl:stylesheet version="${version}" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"${namespaces}>\n${body}\n</xsl:stylesheet>`;

describe('stylesheet module analysis', () => {
  let dir: string;
  before(async () => {
    dir = await scratchDir('modules');
    await mkdir(path.join(dir, 'fmt'));
    await mkdir(path.join(dir, 'common'));
    await writeFile(path.join(dir, 'fmt/main.xsl'), XSL('1.0', '<xsl:import href="../common/a.xsl"/><xsl:include href="../common/b.xsl"/>'));
    await writeFile(path.join(dir, 'common/a.xsl'), XSL('1.0', '<xsl:include href="b.xsl"/>'));
    await writeFile(path.join(dir, 'common/b.xsl'), XSL('2.0', '<xsl:template name="b"/>'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('follows relative xsl:include and xsl:import and reads each module once', async () => {
    const tree = await loadStylesheetTree(path.join(dir, 'fmt/main.xsl'));
    assert.deepEqual(
      tree.modules.map((module) => path.relative(dir, module.path)),
      ['fmt/main.xsl', 'common/a.xsl', 'common/b.xsl'],
    );
    assert.deepEqual(
      tree.principal.references.map((reference) => [reference.kind, reference.href]),
      [
        ['import', '../common/a.xsl'],
        ['include', '../common/b.xsl'],
      ],
    );
  });

  it('records named templates, calls with their parameters, keys and variables by expanded name', () => {
    const module = analyzeModule(
      XSL(
        '1.0',
        `<xsl:key name="k" match="r" use="@id"/>
<xsl:param name="domain"/>
<xsl:template name="p:header"/>
<xsl:template match="/"><xsl:call-template name="footer"><xsl:with-param name="x" select="$domain"/></xsl:call-template>
<out a="{key('k', 'x')}" b="{key('missing', $undeclared)}"/></xsl:template>`,
        ' xmlns:p="urn:p"',
      ),
      '/virtual/main.xsl',
    );
    assert.deepEqual([...module.namedTemplates], ['Q{urn:p}header']);
    assert.deepEqual([...module.templateCalls.values()].map((call) => [call.name, [...call.params]]), [['Q{}footer', ['Q{}x']]]);
    assert.deepEqual([...module.keysDeclared], ['Q{}k']);
    assert.deepEqual([...module.keysUsed].sort(), ['Q{}k', 'Q{}missing']);
    assert.deepEqual([...module.variablesReferenced].sort(), ['Q{}domain', 'Q{}undeclared']);
  });

  it('plans the XSLT 1.0 rewrites only in 1.0 modules', () => {
    const body = `<xsl:template match="/"><a b="{x/text()}"><xsl:value-of select="x/text()"/><xsl:for-each select="y"><xsl:sort select="@k" order="descending"/></xsl:for-each></a></xsl:template>`;
    const old = analyzeModule(XSL('1.0', body), '/v/old.xsl');
    const rewritten = applyEdits(old.text, old.compatEdits);
    assert.match(rewritten, /b="\{\(x\/text\(\)\)\[1\]\}"/);
    assert.match(rewritten, /<xsl:value-of select="\(x\/text\(\)\)\[1\]"\/>/);
    assert.match(rewritten, /<xsl:sort collation="http:\/\/www\.w3\.org\/2005\/xpath-functions\/collation\/codepoint" select="string\(@k\)"/);
    const modern = analyzeModule(XSL('3.0', body), '/v/new.xsl');
    assert.deepEqual(modern.compatEdits, []);
  });

  it('records reads of documents, with the literal URI when there is one', () => {
    const module = analyzeModule(
      XSL('3.0', `<xsl:variable name="l" select="document('../labels.xml')"/>\n<xsl:template match="/"><xsl:value-of select="unparsed-text($f)"/><xsl:result-document href="out/{@n}.xml"/></xsl:template>`),
      '/v/x.xsl',
    );
    assert.deepEqual(
      module.resourceAccesses.map((access) => [access.via, access.uri, access.line]),
      [
        ['document()', '../labels.xml', 2],
        ['unparsed-text()', undefined, 3],
        ['xsl:result-document', 'out/{@n}.xml', 3],
      ],
    );
  });

  it('notes constructs a sandboxed stylesheet may not use', () => {
    const module = analyzeModule(
      XSL('3.0', `<xsl:template match="/"><xsl:evaluate xpath="'1'"/><xsl:value-of select="js:eval('1')" _select="x"/></xsl:template>`, ' xmlns:js="http://saxonica.com/ns/globalJS"'),
      '/v/x.xsl',
    );
    assert.deepEqual(
      module.forbidden.map((entry) => entry.what).sort(),
      ['<xsl:evaluate> (dynamic XPath)', 'the extension function js:eval()', 'the shadow attribute _select'],
    );
  });

  it('reports a module that is not well-formed with file and line', () => {
    assert.throws(
      () => analyzeModule('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n<a>\n</xsl:stylesheet>', '/v/bad.xsl'),
      (error) => isSluiceError(error) && error.code === 'XSLT_COMPILE_ERROR' && error.details['line'] === 3 && /\/v\/bad\.xsl:3: /.test(error.message),
    );
  });
});
