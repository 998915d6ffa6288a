import { randomUUID } from 'node:crypto';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * Holds the lookup-context resources of a chunked run (see batches.ts) with memory that does not
 * grow with the input. A Map of small Buffers costs ~1.7 KB of RSS per 400-byte `gis_location`
 * (measured: 60,000 of them, a 300k-record export, took 100 MB), which was the one part of a
 * chunked run that grew with input size. Here the bytes are packed into slabs, and once more than
 * `memoryLimitBytes` are held, the rest goes to a scratch file in `spillDir` that is read back
 * (from the page cache, in practice) when a batch needs it. What stays in memory per resource is
 * its key and one number.
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
/** A spilled entry is one number: offset × 2^21 + length (offsets up to 2^32, lengths < 2 MiB). */
const LENGTH_BITS = 2 ** 21;

export class ContextStore implements ContextLookup {
  private readonly inMemory = new Map<string, Buffer>();
  private readonly spilled = new Map<string, number>();
  private slab: Buffer | undefined;
  private slabUsed = 0;
  private memoryBytes = 0;
  private file: { handle: FileHandle; path: string; written: number } | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly options: ContextStoreOptions = {}) {}

  get size(): number {
    return this.inMemory.size + this.spilled.size;
  }

  /** True when part of the context lives in the scratch file. */
  get spilling(): boolean {
    return this.file !== undefined;
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    if (this.inMemory.has(key) || this.spilled.has(key)) return;
    const limit = this.options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT;
    if (!this.options.spillDir || this.memoryBytes + bytes.length <= limit || bytes.length >= LENGTH_BITS) {
      this.inMemory.set(key, this.copyIntoSlab(bytes));
      this.memoryBytes += bytes.length;
      return;
    }
    const file = await this.scratchFile(this.options.spillDir);
    const offset = file.written + this.pendingBytes;
    // Copied: the caller's buffer is usually a view of a larger read buffer.
    this.pending.push(Buffer.from(bytes));
    this.pendingBytes += bytes.length;
    this.spilled.set(key, offset * LENGTH_BITS + bytes.length);
    if (this.pendingBytes >= SLAB_BYTES) await this.flush();
  }

  get(key: string): Buffer | undefined | Promise<Buffer | undefined> {
    const held = this.inMemory.get(key);
    if (held) return held;
    const packed = this.spilled.get(key);
    if (packed === undefined) return undefined;
    return this.readSpilled(packed);
  }

  /** Writes what is still buffered; call once every resource is in. */
  async flush(): Promise<void> {
    if (!this.file || this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.file.handle.write(data, 0, data.length, this.file.written);
    this.file.written += data.length;
  }

  /** Deletes the scratch file. */
  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (!file) return;
    await file.handle.close().catch(() => undefined);
    await rm(file.path, { force: true });
  }

  private copyIntoSlab(bytes: Buffer): Buffer {
    // Small Buffers each carry their own allocation and bookkeeping; slab views do not.
    if (bytes.length > SLAB_BYTES / 4) return Buffer.from(bytes);
    if (!this.slab || this.slabUsed + bytes.length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.slabUsed = 0;
    }
    bytes.copy(this.slab, this.slabUsed);
    const view = this.slab.subarray(this.slabUsed, this.slabUsed + bytes.length);
    this.slabUsed += bytes.length;
    return view;
  }

  private async scratchFile(spillDir: string): Promise<{ handle: FileHandle; path: string; written: number }> {
    if (this.file) return this.file;
    await mkdir(spillDir, { recursive: true });
    const file = path.join(spillDir, `context-${randomUUID()}.bin`);
    this.file = { handle: await open(file, 'w+'), path: file, written: 0 };
    return this.file;
  }

  private async readSpilled(packed: number): Promise<Buffer> {
    const length = packed % LENGTH_BITS;
    const offset = (packed - length) / LENGTH_BITS;
    const file = this.file!;
    if (offset >= file.written) {
      // Still in the write buffer (only while resources are being added).
      let start = file.written;
      for (const part of this.pending) {
        if (offset < start + part.length) return part.subarray(offset - start, offset - start + length);
        start += part.length;
      }
    }
    const buffer = Buffer.allocUnsafe(length);
    await file.handle.read(buffer, 0, length, offset);
    return buffer;
  }
}
