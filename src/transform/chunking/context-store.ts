import { randomUUID } from 'node:crypto';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { SluiceError } from '../../errors.js';

/**
 * Holds the lookup-context resources of a chunked run (see batches.ts) with memory that does not
 * grow with the input. A Map from string keys to small Buffers cost ~1.1 KB of RSS per 400-byte
 * `gis_location` (measured: 60,000 of them, a 300k-record export, took 70–85 MB whether or not the
 * bytes were on disk: the keys, the strings they kept alive and heap fragmentation). Here each
 * resource is one record — key and bytes — appended to slabs in memory and, past
 * `memoryLimitBytes`, to a scratch file in `spillDir` (read back from the page cache, in
 * practice). The index maps a 52-bit hash of the key to the record's packed location, a pair of
 * numbers per resource; a lookup checks the stored key, so hash collisions cost a read, never a
 * wrong answer.
 */

export interface ContextLookup {
  readonly size: number;
  get(key: string): Buffer | undefined | Promise<Buffer | undefined>;
}

export interface ContextStoreOptions {
  /** Folder for the scratch file; without it everything stays in memory. */
  spillDir?: string;
  /** Bytes kept in memory before spilling; default 8 MiB. */
  memoryLimitBytes?: number;
}

const SLAB_BYTES = 1024 * 1024;
const DEFAULT_MEMORY_LIMIT = 8 * 1024 * 1024;
/** Location = (offset × 2^21 + record length) × 2 + (1 when on disk); records up to 1 MiB. */
const LENGTH_LIMIT = 2 ** 21;
const OFFSET_LIMIT = 2 ** 31;
const KEY_HEADER_BYTES = 2;

/** FNV-1a over UTF-16 code units, twice with different offsets, folded into 52 bits. */
function hashKey(key: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
  }
  return (a >>> 0) * 2 ** 20 + ((b >>> 0) & 0xfffff);
}

function tooLarge(what: string): SluiceError {
  return new SluiceError('XSLT_CHUNKING_UNSUPPORTED', `the lookup context is too large: ${what}`, {
    status: 422,
    fix: 'Transform the document in smaller parts, or without chunk context',
  });
}

export class ContextStore implements ContextLookup {
  private readonly index = new Map<number, number | number[]>();
  /** Records over 1 MiB (rare: one lookup resource that big), kept as they are. */
  private readonly oversized = new Map<string, Buffer>();
  private readonly slabs: Buffer[] = [];
  private slabUsed = SLAB_BYTES;
  private memoryBytes = 0;
  private count = 0;
  private file: { handle: FileHandle; path: string; written: number } | undefined;
  /** Records not yet written to the scratch file. */
  private writeBuffer: Buffer | undefined;
  private pendingBytes = 0;

  constructor(private readonly options: ContextStoreOptions = {}) {}

  get size(): number {
    return this.count;
  }

  /** True when part of the context lives in the scratch file. */
  get spilling(): boolean {
    return this.file !== undefined;
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    if ((await this.get(key)) !== undefined) return;
    this.count++;
    const keyLength = Buffer.byteLength(key, 'utf8');
    const length = KEY_HEADER_BYTES + keyLength + bytes.length;
    if (length > SLAB_BYTES || keyLength > 0xffff) {
      this.oversized.set(key, Buffer.from(bytes));
      return;
    }
    // Records are written straight into slabs or the write buffer: a small allocation per
    // resource is what fragmented the heap before.
    let location: number;
    const limit = this.options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT;
    if (!this.options.spillDir || this.memoryBytes + length <= limit) {
      if (this.slabUsed + length > SLAB_BYTES) {
        this.slabs.push(Buffer.allocUnsafeSlow(SLAB_BYTES));
        this.slabUsed = 0;
      }
      const slabIndex = this.slabs.length - 1;
      const offset = slabIndex * SLAB_BYTES + this.slabUsed;
      if (offset >= OFFSET_LIMIT) throw tooLarge('more than 2 GiB of lookup resources in memory');
      writeRecord(this.slabs[slabIndex]!, this.slabUsed, key, keyLength, bytes);
      this.slabUsed += length;
      this.memoryBytes += length;
      location = (offset * LENGTH_LIMIT + length) * 2;
    } else {
      const file = await this.scratchFile(this.options.spillDir);
      if (this.pendingBytes + length > SLAB_BYTES) await this.flush();
      const offset = file.written + this.pendingBytes;
      if (offset + length >= OFFSET_LIMIT) throw tooLarge('more than 2 GiB of lookup resources');
      this.writeBuffer ??= Buffer.allocUnsafeSlow(SLAB_BYTES);
      writeRecord(this.writeBuffer, this.pendingBytes, key, keyLength, bytes);
      this.pendingBytes += length;
      location = (offset * LENGTH_LIMIT + length) * 2 + 1;
    }
    const hash = hashKey(key);
    const known = this.index.get(hash);
    if (known === undefined) this.index.set(hash, location);
    else if (typeof known === 'number') this.index.set(hash, [known, location]);
    else known.push(location);
  }

  get(key: string): Buffer | undefined | Promise<Buffer | undefined> {
    const found = this.index.get(hashKey(key));
    if (found === undefined) return this.oversized.get(key);
    const candidates = typeof found === 'number' ? [found] : found;
    if (candidates.every((location) => location % 2 === 0)) {
      for (const location of candidates) {
        const payload = payloadIfKey(this.readFromSlab(location / 2), key);
        if (payload) return payload;
      }
      return this.oversized.get(key);
    }
    return this.getSpilled(key, candidates);
  }

  /** Writes what is still buffered; call once every resource is in. */
  async flush(): Promise<void> {
    if (!this.file || !this.writeBuffer || this.pendingBytes === 0) return;
    const length = this.pendingBytes;
    await this.file.handle.write(this.writeBuffer, 0, length, this.file.written);
    this.file.written += length;
    this.pendingBytes = 0;
  }

  /** Deletes the scratch file. */
  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (!file) return;
    await file.handle.close().catch(() => undefined);
    await rm(file.path, { force: true });
  }

  private async getSpilled(key: string, candidates: number[]): Promise<Buffer | undefined> {
    for (const location of candidates) {
      const record = location % 2 === 0 ? this.readFromSlab(location / 2) : await this.readFromFile((location - 1) / 2);
      const payload = payloadIfKey(record, key);
      if (payload) return payload;
    }
    return this.oversized.get(key);
  }

  private readFromSlab(packed: number): Buffer {
    const length = packed % LENGTH_LIMIT;
    const offset = (packed - length) / LENGTH_LIMIT;
    const start = offset % SLAB_BYTES;
    return this.slabs[(offset - start) / SLAB_BYTES]!.subarray(start, start + length);
  }

  private async readFromFile(packed: number): Promise<Buffer> {
    const length = packed % LENGTH_LIMIT;
    const offset = (packed - length) / LENGTH_LIMIT;
    const file = this.file!;
    if (offset >= file.written) {
      // Still in the write buffer (only while resources are being added): a copy, as the
      // buffer is reused.
      return Buffer.from(this.writeBuffer!.subarray(offset - file.written, offset - file.written + length));
    }
    const buffer = Buffer.allocUnsafe(length);
    await file.handle.read(buffer, 0, length, offset);
    return buffer;
  }

  private async scratchFile(spillDir: string): Promise<{ handle: FileHandle; path: string; written: number }> {
    if (this.file) return this.file;
    await mkdir(spillDir, { recursive: true });
    const file = path.join(spillDir, `context-${randomUUID()}.bin`);
    this.file = { handle: await open(file, 'w+'), path: file, written: 0 };
    return this.file;
  }
}

function writeRecord(target: Buffer, at: number, key: string, keyLength: number, bytes: Buffer): void {
  target.writeUInt16BE(keyLength, at);
  target.write(key, at + KEY_HEADER_BYTES, keyLength, 'utf8');
  bytes.copy(target, at + KEY_HEADER_BYTES + keyLength);
}

function payloadIfKey(record: Buffer, key: string): Buffer | undefined {
  const keyLength = record.readUInt16BE(0);
  if (record.toString('utf8', KEY_HEADER_BYTES, KEY_HEADER_BYTES + keyLength) !== key) return undefined;
  return record.subarray(KEY_HEADER_BYTES + keyLength);
}
