/**
 * Where a `%%seedance` cell's prompt is, read the way IPython reads a cell, so the
 * editor can stop highlighting that natural-language text as Python.
 */

/** Zero-based, inclusive line indices of a cell's prompt body. */
export interface ILineRange {
  first: number;
  last: number;
}

/** `%%seedance` then nothing or a space and flags; `%%seedance?` is IPython help. */
const MAGIC_LINE = /^%%seedance(?: |$)/;

/**
 * The lines after the `%%seedance` line, or null when the cell is not that magic or
 * that line is its last. IPython drops leading blank lines and the indentation common
 * to all lines before it looks for `%%`, so this does too.
 */
export function promptBodyLines(text: string): ILineRange | null {
  const lines = text.split(/\r\n|\r|\n/);
  const magicAt = lines.findIndex(line => line.trim() !== '');
  if (magicAt < 0 || magicAt === lines.length - 1) {
    return null;
  }
  const magicLine = lines[magicAt];
  const indent = /^[ \t]*/.exec(magicLine)?.[0] ?? '';
  const dedents = lines.every(
    line => line.trim() === '' || line.startsWith(indent)
  );
  if (!dedents || !MAGIC_LINE.test(magicLine.slice(indent.length).trimEnd())) {
    return null;
  }
  return { first: magicAt + 1, last: lines.length - 1 };
}
