/**
 * The id cursor with overlap. MySQL auto-increment ids become visible out of order under
 * concurrent inserts, so each fetch re-reads `overlap` ids below the committed cursor. Of those,
 * only ids this client has not delivered before are passed on; ids above the cursor are always
 * passed on (once per fetch), because the caller may not have committed them.
 */
export class IdCursorWindow {
  /** Ids delivered by earlier fetches that may still fall inside a future overlap window. */
  private readonly delivered = new Set<number>();

  constructor(readonly overlap: number) {}

  /** Starts a fetch from the committed `cursor`; returns the id to ask the server for posts after. */
  begin(cursor: number): CursorRun {
    const floor = cursor - this.overlap;
    for (const id of this.delivered) {
      if (id <= floor) this.delivered.delete(id);
    }
    return new CursorRun(cursor, Math.max(0, floor), this.delivered);
  }
}

export class CursorRun {
  private readonly seenThisRun = new Set<number>();
  private highest: number;

  constructor(
    readonly committed: number,
    /** Ask for ids strictly greater than this. */
    public requestAfter: number,
    private readonly delivered: Set<number>,
  ) {
    this.highest = committed;
  }

  /** True when `id` should be delivered; records it either way. */
  admit(id: number): boolean {
    if (this.seenThisRun.has(id)) return false;
    this.seenThisRun.add(id);
    if (id <= this.committed && this.delivered.has(id)) return false;
    this.delivered.add(id);
    if (id > this.highest) this.highest = id;
    return true;
  }

  /** Moves the server-side cursor past a page, whatever was admitted from it. */
  advancePast(maxIdInPage: number): void {
    if (maxIdInPage > this.requestAfter) this.requestAfter = maxIdInPage;
  }

  /** The cursor to commit once everything admitted so far is stored. */
  get nextCursor(): number {
    return this.highest;
  }
}
