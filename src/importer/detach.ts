/**
 * V8 keeps a substring as a view into the string it was cut from. Uids the parser slices out of a
 * 64 KiB input chunk would keep every chunk alive as long as they are, so whatever outlives a page
 * (result lists, tuid and index maps) holds copies instead, and memory stays bounded by the page.
 */
export function detached(text: string): string {
  // Concatenation then slice forces a fresh flat string of the text's own length.
  return (` ${text}`).slice(1);
}
