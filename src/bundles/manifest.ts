/**
 * What a bundle says about itself. Four kinds:
 * - `changes`: what the next push to `target` would send, since that push's checkpoint;
 * - `selection`: records picked by resources, since-date and URL filters (no checkpoint);
 * - `backup`: the whole store (see backup.ts);
 * - `ack`: the receiver's word that it applied parts of a `changes` bundle; carried back, it moves
 *   the sender's push checkpoint as a successful push would have.
 */
export type BundleKind = 'changes' | 'selection' | 'backup' | 'ack';

export interface BundleParty {
  uuid: string;
  name?: string;
}

export interface BundlePartEntry {
  /** File-like name, e.g. `org_office.xml.gz`. */
  name: string;
  /** `application/xml` (S3XML) or `application/x-ndjson` (backup), always gzip-compressed. */
  media_type: string;
  bytes: number;
  sha256: string;
  resource?: string;
  /** Top-level records of `resource` in the part. */
  records?: number;
  /** changes: the sender's task, its push checkpoint id and the seq window `(after_seq, until_seq]`. */
  task?: string;
  checkpoint?: string;
  after_seq?: number;
  until_seq?: number;
  /** changes: the youngest modified_on of `resource` in the part (the push checkpoint's mtime). */
  mtime?: string;
  filters?: string[];
}

/** One acknowledged part of a `changes` bundle. */
export interface BundleAck {
  bundle: string;
  part: number;
  resource: string;
  task: string;
  checkpoint: string;
  after_seq: number;
  until_seq: number;
  mtime?: string;
}

export interface BundleManifest {
  format: 'sluice-bundle';
  version: 1;
  id: string;
  kind: BundleKind;
  created_at: string;
  source: BundleParty & { public_key: string };
  target?: BundleParty;
  resources: string[];
  /** selection: the since-date asked for. */
  since?: string;
  filters?: string[];
  counts: { parts: number; records: number };
  parts: BundlePartEntry[];
  acks?: BundleAck[];
}
