import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isSluiceError, type SluiceError } from '../../src/errors.js';
import type { TransformEngine } from '../../src/transform/engine.js';
import { FIXTURES, scratchDir, testEngine } from './helpers.js';

/**
 * Stylesheets not shipped with Sluice may read only their own folder and the configured folders,
 * reach no URL, write nothing, and stop at the time and recursion limits, while the gateway goes
 * on serving. Literal URIs are refused before compiling; computed ones by the sandbox process.
 */

const CUSTOM = path.join(FIXTURES, 'sandbox/custom.xsl');
const ALLOWED = path.join(FIXTURES, 'sandbox-allowed');
const INPUT = '<s3xml/>';

async function failure(promise: Promise<unknown>): Promise<SluiceError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isSluiceError(error), `expected a SluiceError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the transform to be refused');
}

function sheet(body: string, namespaces = ''): string {
  return `<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"${namespaces}><xsl:output method="text"/><xsl:template match="/">${body}</xsl:template></xsl:stylesheet>`;
}

describe('sandbox for custom and uploaded stylesheets', () => {
  let engine: TransformEngine;
  let secretDir: string;
  let secret: string;
  let listener: http.Server;
  let requestsSeen = 0;
  let port = 0;

  before(async () => {
    // stylesheetsDir does not contain the sandbox fixtures, so they count as custom stylesheets.
    engine = testEngine({ stylesheetsDir: path.join(FIXTURES, 'engine'), allowedDirs: [ALLOWED], timeoutMs: 15_000 });
    secretDir = await scratchDir('secret');
    secret = path.join(secretDir, 'secret.xml');
    await writeFile(secret, '<secret>peer password</secret>');
    listener = http.createServer((_req, res) => {
      requestsSeen++;
      res.end('<leak/>');
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as AddressInfo).port;
  });

  after(async () => {
    await engine.close();
    await new Promise((resolve) => listener.close(resolve));
    await rm(secretDir, { recursive: true, force: true });
  });

  describe('refused before compiling', () => {
    it('refuses reading /etc/hostname', async () => {
      const error = await failure(engine.transform({ stylesheet: { text: sheet(`<xsl:value-of select="unparsed-text('/etc/hostname')"/>`) }, input: INPUT }));
      assert.equal(error.code, 'XSLT_SANDBOX_VIOLATION');
      assert.equal(error.status, 403);
      assert.match(error.message, /\/etc\/hostname/);
      assert.equal(error.details['line'], 1);
    });

    it('refuses a file: URI outside the allowed folders', async () => {
      const error = await failure(engine.transform({ stylesheet: { text: sheet(`<xsl:copy-of select="doc('file://${secret}')"/>`) }, input: INPUT }));
      assert.equal(error.code, 'XSLT_SANDBOX_VIOLATION');
    });

    it('refuses a URL', async () => {
      const error = await failure(
        engine.transform({ stylesheet: { text: sheet(`<xsl:copy-of select="document('http://127.0.0.1:${port}/data.xml')"/>`) }, input: INPUT }),
      );
      assert.equal(error.code, 'XSLT_SANDBOX_VIOLATION');
      assert.match(error.message, /URL/);
      assert.equal(requestsSeen, 0);
    });

    it('refuses writing a file with xsl:result-document outside its folder', async () => {
      const target = path.join(secretDir, 'written.txt');
      const error = await failure(
        engine.transform({ stylesheet: { text: sheet(`<xsl:result-document href="file://${target}">x</xsl:result-document>`) }, input: INPUT }),
      );
      assert.equal(error.code, 'XSLT_SANDBOX_VIOLATION');
      assert.match(error.message, /writing/);
      assert.equal(existsSync(target), false);
    });

    it('refuses SaxonJS\'s JavaScript bridge and dynamic code', async () => {
      const js = await failure(
        engine.transform({ stylesheet: { text: sheet(`<xsl:value-of select="js:eval('1')"/>`, ' xmlns:js="http://saxonica.com/ns/globalJS"') }, input: INPUT }),
      );
      assert.equal(js.code, 'XSLT_SANDBOX_VIOLATION');
      const evaluate = await failure(engine.transform({ stylesheet: { text: sheet(`<xsl:evaluate xpath="'1'"/>`) }, input: INPUT }));
      assert.equal(evaluate.code, 'XSLT_SANDBOX_VIOLATION');
      const lookup = await failure(
        engine.transform({ stylesheet: { text: sheet(`<xsl:value-of select="function-lookup(QName('http://www.w3.org/2005/xpath-functions', 'doc'), 1)('x')"/>`) }, input: INPUT }),
      );
      assert.equal(lookup.code, 'XSLT_SANDBOX_VIOLATION');
    });

    it('refuses including a module from outside the allowed folders', async () => {
      const outside = path.join(FIXTURES, 'engine/csv-out.xsl');
      const text = `<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:include href="file://${outside}"/></xsl:stylesheet>`;
      const error = await failure(engine.transform({ stylesheet: { text }, input: INPUT }));
      assert.equal(error.code, 'XSLT_SANDBOX_VIOLATION');
    });
  });

  describe('stopped by the sandbox process at run time', () => {
    it('lets a custom stylesheet read its own folder and the configured folders', async () => {
      const own = await engine.transform({ stylesheet: { path: CUSTOM }, input: INPUT });
      assert.equal(own.output, 'from my own folder');
      const configured = await engine.transform({
        stylesheet: { path: CUSTOM },
        input: INPUT,
        params: { mode: 'allowed-folder', target: path.join(ALLOWED, 'notes.txt') },
      });
      assert.equal(configured.output, 'configured folder content\n');
    });

    it('refuses reading /etc/hostname through a computed URI', async () => {
      const error = await failure(engine.transform({ stylesheet: { path: CUSTOM }, input: INPUT, params: { mode: 'read-text', target: '/etc/hostname' } }));
      assert.equal(error.code, 'XSLT_SANDBOX_VIOLATION');
    });

    it('refuses a computed file: URI outside the allowed folders', async () => {
      const error = await failure(engine.transform({ stylesheet: { path: CUSTOM }, input: INPUT, params: { mode: 'read-xml', target: secret } }));
      assert.equal(error.code, 'XSLT_SANDBOX_VIOLATION');
      assert.doesNotMatch(error.message, /peer password/);
    });

    it('refuses a computed URL without making the request', async () => {
      const error = await failure(
        engine.transform({ stylesheet: { path: CUSTOM }, input: INPUT, params: { mode: 'url', target: `http://127.0.0.1:${port}/x.xml` } }),
      );
      assert.equal(error.code, 'XSLT_SANDBOX_VIOLATION');
      assert.equal(requestsSeen, 0);
    });

    it('refuses writing to a computed path and writes nothing', async () => {
      const target = path.join(secretDir, 'computed.txt');
      const error = await failure(engine.transform({ stylesheet: { path: CUSTOM }, input: INPUT, params: { mode: 'write', target: `file://${target}` } }));
      assert.equal(error.code, 'XSLT_SANDBOX_VIOLATION');
      assert.equal(existsSync(target), false);
    });

    it('ends an infinite recursion with XSLT_STACK_OVERFLOW', async () => {
      const error = await failure(engine.transform({ stylesheet: { path: CUSTOM }, input: INPUT, params: { mode: 'recurse-forever' }, timeoutMs: 20_000 }));
      assert.equal(error.code, 'XSLT_STACK_OVERFLOW');
    });

    it('ends a never-ending loop within the limit while the gateway keeps serving', async () => {
      const server = http.createServer((_req, res) => res.end('pong'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const serverPort = (server.address() as AddressInfo).port;
      try {
        const started = performance.now();
        let settledAt = Number.POSITIVE_INFINITY;
        const runaway = failure(engine.transform({ stylesheet: { path: CUSTOM }, input: INPUT, params: { mode: 'loop-forever' }, timeoutMs: 3_000 }));
        const trusted = failure(
          engine.transform({ stylesheet: { path: path.join(FIXTURES, 'engine/behaviours.xsl') }, input: INPUT, params: { mode: 'loop-forever' }, timeoutMs: 3_000 }),
        );
        void Promise.race([runaway, trusted]).then(() => (settledAt = performance.now()));
        // Both runaways are busy now; the event loop must still answer requests meanwhile.
        const answeredAt: number[] = [];
        for (let i = 0; i < 5; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          const response = await fetch(`http://127.0.0.1:${serverPort}/`);
          assert.equal(await response.text(), 'pong');
          answeredAt.push(performance.now());
        }
        const [sandboxed, threaded] = await Promise.all([runaway, trusted]);
        const elapsed = performance.now() - started;
        assert.equal(sandboxed.code, 'XSLT_TIMEOUT');
        assert.equal(threaded.code, 'XSLT_TIMEOUT');
        assert.ok(elapsed < 12_000, `the runaways took ${elapsed} ms`);
        assert.ok(Math.max(...answeredAt) < settledAt, 'every request was answered while the runaways were still running');
        const after = await engine.transform({ stylesheet: { path: CUSTOM }, input: INPUT });
        assert.equal(after.output, 'from my own folder');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});
