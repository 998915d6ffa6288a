/**
 * The console's own CSS, scripts and icon, served by Sluice itself (no CDN: many users are on slow
 * or offline links). Read once when the console starts; every URL carries a content hash, so a
 * browser keeps a file for a year and fetches it again only when it changed. Gzipped ahead.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Request, Response } from 'express';
import { repoRoot } from '../config.js';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  hash: string;
  type: string;
}

export const DEFAULT_ASSETS_DIR = path.join(repoRoot, 'src', 'console', 'assets');

export class AssetServer {
  private readonly assets = new Map<string, Asset>();

  constructor(dir: string = DEFAULT_ASSETS_DIR) {
    for (const name of readdirSync(dir)) {
      const type = TYPES[path.extname(name)];
      if (!type) continue;
      const body = readFileSync(path.join(dir, name));
      this.assets.set(name, {
        body,
        gzipped: gzipSync(body, { level: 9 }),
        hash: createHash('sha256').update(body).digest('hex').slice(0, 12),
        type,
      });
    }
  }

  names(): string[] {
    return [...this.assets.keys()].sort();
  }

  /** The URL of an asset with its content hash. */
  url(name: string): string {
    const asset = this.assets.get(name);
    return asset ? `/console/assets/${name}?v=${asset.hash}` : `/console/assets/${name}`;
  }

  /** Answers GET /console/assets/:name; false when there is no such asset. */
  serve(req: Request, res: Response, name: string): boolean {
    const asset = this.assets.get(name);
    if (!asset) return false;
    const etag = `"${asset.hash}"`;
    res.set({
      'Content-Type': asset.type,
      ETag: etag,
      'Cache-Control': req.query.v === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      Vary: 'Accept-Encoding',
    });
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return true;
    }
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      res.set('Content-Encoding', 'gzip').end(asset.gzipped);
    } else {
      res.end(asset.body);
    }
    return true;
  }
}
