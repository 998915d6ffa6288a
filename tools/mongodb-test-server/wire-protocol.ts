/**
 * MongoDB wire-protocol framing: just the message kinds a current driver sends (OP_MSG for every
 * command, OP_QUERY for the legacy first `isMaster`) and the replies to them (OP_MSG, OP_REPLY).
 * BSON bodies stay Buffers here; decoding them is the caller's business.
 */
export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

const HEADER_BYTES = 16;
const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;

export interface MessageHeader {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

/** A decoded OP_MSG: the body document and the kind-1 document sequences by identifier. */
export interface OpMsgRequest {
  kind: 'msg';
  header: MessageHeader;
  /** The client sent a fire-and-forget write (w:0): no reply is expected. */
  moreToCome: boolean;
  body: Buffer;
  sequences: Map<string, Buffer[]>;
}

export interface OpQueryRequest {
  kind: 'query';
  header: MessageHeader;
  collection: string;
  query: Buffer;
}

export type WireRequest = OpMsgRequest | OpQueryRequest;

export class WireProtocolError extends Error {}

function readHeader(frame: Buffer): MessageHeader {
  return {
    length: frame.readInt32LE(0),
    requestId: frame.readInt32LE(4),
    responseTo: frame.readInt32LE(8),
    opCode: frame.readInt32LE(12),
  };
}

/** One BSON document starting at `offset` (its first int32 is its own length). */
function bsonAt(buffer: Buffer, offset: number, end: number): Buffer {
  if (offset + 4 > end) throw new WireProtocolError('truncated BSON document');
  const size = buffer.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw new WireProtocolError('BSON document length out of bounds');
  return buffer.subarray(offset, offset + size);
}

function cstringAt(buffer: Buffer, offset: number, end: number): { value: string; next: number } {
  const zero = buffer.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw new WireProtocolError('unterminated C string');
  return { value: buffer.toString('utf8', offset, zero), next: zero + 1 };
}

function parseOpMsg(header: MessageHeader, frame: Buffer): OpMsgRequest {
  const flags = frame.readUInt32LE(HEADER_BYTES);
  const end = flags & CHECKSUM_PRESENT ? frame.length - 4 : frame.length;
  let offset = HEADER_BYTES + 4;
  let body: Buffer | undefined;
  const sequences = new Map<string, Buffer[]>();
  while (offset < end) {
    const kind = frame.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      body = bsonAt(frame, offset, end);
      offset += body.length;
    } else if (kind === 1) {
      const sectionEnd = offset + frame.readInt32LE(offset);
      if (sectionEnd > end) throw new WireProtocolError('document sequence runs past the message');
      const identifier = cstringAt(frame, offset + 4, sectionEnd);
      const documents: Buffer[] = [];
      for (let at = identifier.next; at < sectionEnd; ) {
        const document = bsonAt(frame, at, sectionEnd);
        documents.push(document);
        at += document.length;
      }
      sequences.set(identifier.value, [...(sequences.get(identifier.value) ?? []), ...documents]);
      offset = sectionEnd;
    } else {
      throw new WireProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new WireProtocolError('OP_MSG without a body section');
  return { kind: 'msg', header, moreToCome: (flags & MORE_TO_COME) !== 0, body, sequences };
}

function parseOpQuery(header: MessageHeader, frame: Buffer): OpQueryRequest {
  const collection = cstringAt(frame, HEADER_BYTES + 4, frame.length);
  // numberToSkip and numberToReturn (8 bytes) do not matter for the handshake commands sent this way.
  const query = bsonAt(frame, collection.next + 8, frame.length);
  return { kind: 'query', header, collection: collection.value, query };
}

/**
 * Splits a byte stream into requests. Feed it chunks as they arrive; it returns every complete
 * message and keeps the rest for the next chunk.
 */
export class MessageReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageBytes: number) {}

  push(chunk: Buffer): WireRequest[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const requests: WireRequest[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readInt32LE(0);
      if (length < HEADER_BYTES || length > this.maxMessageBytes) throw new WireProtocolError(`message length ${length} is out of bounds`);
      if (this.pending.length < length) break;
      const frame = this.pending.subarray(0, length);
      this.pending = this.pending.subarray(length);
      const header = readHeader(frame);
      if (header.opCode === OP_MSG) requests.push(parseOpMsg(header, frame));
      else if (header.opCode === OP_QUERY) requests.push(parseOpQuery(header, frame));
      else if (header.opCode === OP_COMPRESSED) throw new WireProtocolError('compressed messages are not supported; connect without compressors');
      else throw new WireProtocolError(`unsupported opCode ${header.opCode}`);
    }
    return requests;
  }
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.writeInt32LE(length, 0);
  bytes.writeInt32LE(requestId, 4);
  bytes.writeInt32LE(responseTo, 8);
  bytes.writeInt32LE(opCode, 12);
  return bytes;
}

/** An OP_MSG reply with one body section. */
export function encodeOpMsgReply(requestId: number, responseTo: number, body: Buffer): Buffer {
  const flagsAndKind = Buffer.alloc(5);
  return Buffer.concat([header(HEADER_BYTES + 5 + body.length, requestId, responseTo, OP_MSG), flagsAndKind, body]);
}

/** An OP_REPLY carrying one document, the answer to an OP_QUERY command. */
export function encodeOpReply(requestId: number, responseTo: number, document: Buffer): Buffer {
  const fields = Buffer.alloc(20);
  // responseFlags 0, cursorID 0, startingFrom 0, numberReturned 1
  fields.writeInt32LE(1, 16);
  return Buffer.concat([header(HEADER_BYTES + 20 + document.length, requestId, responseTo, OP_REPLY), fields, document]);
}
