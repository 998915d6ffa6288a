import { SluiceError } from '../../errors.js';

/**
 * Joins the outputs of batches so the result equals what the whole document would have given.
 *
 * - XML outputs: every batch yields one document with the same root; the result keeps the first
 *   batch's prolog and root start tag, then the content of every batch's root, in order.
 * - Text outputs (CSV and the like): the stylesheet's output for a document with no records is
 *   its "frame" (a header line, perhaps a footer). Every batch's output is that frame around its
 *   records, so the result is the frame's head, each batch's body, the frame's foot.
 */

export interface OutputJoiner {
  /** Returns the text to emit for this batch's output (in order). */
  add(output: string): string;
  /** Returns the text that closes the result. */
  finish(): string;
}

function joinFailure(message: string): SluiceError {
  return new SluiceError('XSLT_CHUNK_JOIN_FAILED', `the batch outputs cannot be joined: ${message}`, {
    status: 422,
    fix: 'Run this stylesheet on the whole document (without --chunked): it is not record-local',
  });
}

interface XmlParts {
  head: string;
  rootName: string;
  content: string;
  selfClosed: string | undefined;
}

function splitXmlOutput(output: string): XmlParts | undefined {
  let i = 0;
  for (;;) {
    const lt = output.indexOf('<', i);
    if (lt < 0) return undefined;
    const skipTo = (closer: string): number => {
      const close = output.indexOf(closer, lt + 2);
      return close < 0 ? -1 : close + closer.length;
    };
    if (output.startsWith('<?', lt)) i = skipTo('?>');
    else if (output.startsWith('<!--', lt)) i = skipTo('-->');
    else if (output.startsWith('<!', lt)) i = skipTo('>');
    else {
      let end = lt + 1;
      let quote = '';
      for (; end < output.length; end++) {
        const ch = output[end]!;
        if (quote) {
          if (ch === quote) quote = '';
        } else if (ch === '"' || ch === "'") quote = ch;
        else if (ch === '>') break;
      }
      const startTag = output.slice(lt, end + 1);
      const rootName = /^<([^\s/>]+)/.exec(startTag)?.[1] ?? '';
      if (startTag.endsWith('/>')) {
        return { head: output.slice(0, lt) + startTag.replace(/\s*\/>$/, '>'), rootName, content: '', selfClosed: output };
      }
      const close = output.lastIndexOf(`</${rootName}`);
      if (close < 0) return undefined;
      return { head: output.slice(0, end + 1), rootName, content: output.slice(end + 1, close), selfClosed: undefined };
    }
    if (i < 0) return undefined;
  }
}

export class XmlRootJoiner implements OutputJoiner {
  private opened: XmlParts | undefined;
  private emittedHead = false;

  add(output: string): string {
    const parts = splitXmlOutput(output);
    if (!parts) throw joinFailure('a batch produced no root element');
    if (!this.opened) this.opened = parts;
    else if (parts.rootName !== this.opened.rootName) {
      throw joinFailure(`batches produced different roots (<${this.opened.rootName}> and <${parts.rootName}>)`);
    }
    if (!parts.content) return '';
    // The head goes out with the first content, so an all-empty result can stay self-closed.
    const head = this.emittedHead ? '' : this.opened.head;
    this.emittedHead = true;
    return head + parts.content;
  }

  finish(): string {
    if (!this.opened) return '';
    if (!this.emittedHead) return this.opened.selfClosed ?? `${this.opened.head}</${this.opened.rootName}>`;
    return `</${this.opened.rootName}>`;
  }
}

export class TextFrameJoiner implements OutputJoiner {
  private foot = '';
  private started = false;

  /** `frame` is the stylesheet's output for the document without records. */
  constructor(private readonly frame: string) {}

  add(output: string): string {
    const frame = this.frame;
    let common = 0;
    const limit = Math.min(frame.length, output.length);
    while (common < limit && frame.charCodeAt(common) === output.charCodeAt(common)) common++;
    // The longest head of the frame that this output starts with, such that it ends with the rest.
    let split = common;
    while (split > 0 && !(output.endsWith(frame.slice(split)) && output.length >= frame.length)) split--;
    if (!output.endsWith(frame.slice(split)) || output.length < frame.length) {
      if (frame.length > 0) throw joinFailure('a batch output does not contain the header and footer of the empty document');
    }
    const body = output.slice(split, output.length - (frame.length - split));
    const head = this.started ? '' : frame.slice(0, split);
    this.started = true;
    this.foot = frame.slice(split);
    return head + body;
  }

  finish(): string {
    return this.started ? this.foot : this.frame;
  }
}
