/**
 * File name patterns of a drop folder: globs separated by commas, `*` for any run of characters and
 * `?` for one, matched against the whole name, case-insensitively (FAT-formatted sticks upper-case
 * names). Nothing else is special, so a pattern cannot reach outside the folder.
 */
import { SluiceError } from '../errors.js';

export const DEFAULT_FILE_PATTERN = '*.bundle,*.xml';

function escapeRegExp(text: string): string {
  return text.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}

export function compileFilePattern(pattern: string): (name: string) => boolean {
  const globs = pattern.split(',').map((glob) => glob.trim()).filter((glob) => glob !== '');
  if (globs.length === 0 || globs.some((glob) => glob.includes('/') || glob.includes('\\'))) {
    throw new SluiceError('BAD_FOLDER_PATTERN', `"${pattern}" is not a list of file name patterns`, {
      status: 400,
      fix: 'Give names with * and ?, separated by commas, e.g. *.bundle,*.xml',
    });
  }
  const expressions = globs.map((glob) => new RegExp(`^${escapeRegExp(glob).replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i'));
  return (name) => expressions.some((expression) => expression.test(name));
}
