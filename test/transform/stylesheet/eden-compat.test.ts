import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findMissingNames, planCompilation, standInsFromCompilerMessage } from '../../../src/transform/stylesheet/eden-compat.js';
import { analyzeModule, type StylesheetTree } from '../../../src/transform/stylesheet/module-tree.js';

function tree(...modules: [string, string][]): StylesheetTree {
  const analyzed = modules.map(([file, text]) => analyzeModule(text, file));
  return { principal: analyzed[0]!, modules: analyzed };
}

const COMMONS = `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:template name="row"><xsl:call-template name="resourceHeader"/><xsl:call-template name="hook"><xsl:with-param name="uuid" select="@uuid"/></xsl:call-template><xsl:value-of select="$nobody"/><xsl:value-of select="key('nokey', 'x')"/></xsl:template>
</xsl:stylesheet>`;
const MAIN = `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:include href="../common/commons.xsl"/>
<xsl:template name="resourceHeader">header</xsl:template>
<xsl:template match="/"><xsl:call-template name="row"/></xsl:template>
</xsl:stylesheet>`;

describe('Eden compatibility layer', () => {
  const eden = tree(['/s/fmt/main.xsl', MAIN], ['/s/common/commons.xsl', COMMONS]);

  it('finds the names the stylesheet uses but none of its modules defines', () => {
    const missing = findMissingNames(eden);
    assert.deepEqual([...missing.templates.keys()], ['Q{}hook']);
    assert.deepEqual([...missing.templates.get('Q{}hook')!], ['Q{}uuid']);
    assert.deepEqual([...missing.keys], ['Q{}nokey']);
    assert.deepEqual([...missing.params], ['Q{}nobody']);
  });

  it('compiles through a wrapper that imports the stand-ins and includes rewritten copies', () => {
    const plan = planCompilation(eden, '/work');
    assert.equal(plan.entryPath, path.join('/work', 'sluice-entry.xsl'));
    const byPath = new Map(plan.files.map((file) => [file.path, file.text]));
    const wrapper = byPath.get('/work/sluice-entry.xsl')!;
    assert.match(wrapper, /<xsl:import href="file:\/\/\/work\/sluice-stand-ins\.xsl"\/>/);
    assert.match(wrapper, /<xsl:include href="file:\/\/\/work\/modules\/s\/fmt\/main\.xsl"\/>/);
    const standIns = byPath.get('/work/sluice-stand-ins.xsl')!;
    assert.match(standIns, /<xsl:template name="Q\{\}hook">\s*<xsl:param name="Q\{\}uuid"\/>/);
    assert.match(standIns, /<xsl:param name="Q\{\}nobody" select="''"\/>/);
    assert.match(standIns, /<xsl:key name="Q\{\}nokey"/);
    const main = byPath.get('/work/modules/s/fmt/main.xsl')!;
    // The copy resolves relative URIs (document(), errors) against the original file.
    assert.match(main, /<xsl:stylesheet xml:base="file:\/\/\/s\/fmt\/main\.xsl" version="1\.0"/);
    assert.match(main, /<xsl:include href="file:\/\/\/work\/modules\/s\/common\/commons\.xsl"\/>/);
    assert.equal(plan.originals.get('/work/modules/s/common/commons.xsl'), '/s/common/commons.xsl');
  });

  it('compiles a clean XSLT 3.0 stylesheet as it is', () => {
    const clean = tree(['/s/x.xsl', '<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><x/></xsl:template></xsl:stylesheet>']);
    const plan = planCompilation(clean, '/work');
    assert.equal(plan.entryPath, '/s/x.xsl');
    assert.deepEqual(plan.files, []);
  });

  it('reads the missing name from the compiler\'s message for the next attempt', () => {
    assert.deepEqual([...standInsFromCompilerMessage('XPST0008', 'No binding for variable Q{}late')!.params], ['Q{}late']);
    assert.deepEqual([...standInsFromCompilerMessage('XTSE0650', 'Named template Q{urn:x}t does not exist')!.templates.keys()], ['Q{urn:x}t']);
    assert.equal(standInsFromCompilerMessage('XPST0003', 'Unexpected token'), undefined);
  });
});
