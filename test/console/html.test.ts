import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { html, jsonData, query, trusted } from '../../src/console/html.js';

describe('console HTML templates', () => {
  it('escapes every interpolated value unless it is markup made by the template', () => {
    const name = '<script>alert("x")</script> & \'quotes\'';
    const page = html`<p title="${name}">${name}</p>${html`<b>${'bold'}</b>`}`;
    assert.equal(
      page.value,
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;</p><b>bold</b>',
    );
  });

  it('joins lists, leaves out nothing-values and keeps numbers and trusted markup', () => {
    assert.equal(html`${['<a>', html`<i>x</i>`, 3]}|${undefined}|${null}|${false}|${0}|${trusted('<hr>')}`.value, '&lt;a&gt;<i>x</i>3||||0|<hr>');
  });

  it('puts script data where no value can close the element', () => {
    const block = jsonData('data', { text: '</script><script>alert(1)</script>', line: '\u2028' }).value;
    assert.ok(!block.slice(0, -'</script>'.length).includes('</script'), block);
    const json = block.replace(/^<script type="application\/json" id="data">/, '').replace(/<\/script>$/, '');
    assert.deepEqual(JSON.parse(json), { text: '</script><script>alert(1)</script>', line: '\u2028' });
  });

  it('builds query strings without the empty parameters', () => {
    assert.equal(query({ a: 'x y', b: '', c: undefined, d: 2 }), '?a=x+y&d=2');
    assert.equal(query({ a: undefined }), '');
  });
});
