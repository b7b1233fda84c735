/**
 * The README's layout section names the tree as it is: every folder of src/ and test/, and no
 * folder that is gone (issue #13: a reader finds a module by the map, so the map must not drift).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const folders = (dir: string) =>
  readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

/** The folders the layout's tree names under `top/`: `name/` tokens between `top/` and the next top-level line. */
function named(tree: string[], top: string): string[] {
  const start = tree.indexOf(`${top}/`);
  if (start < 0) throw new Error(`the layout names no ${top}/`);
  const end = tree.findIndex((line, i) => i > start && /^\S/.test(line));
  const block = tree.slice(start + 1, end < 0 ? undefined : end);
  // Folder names start a line's first column (after indentation), before the description.
  const names = block.flatMap((line) => line.trim().split(/\s{2,}/)[0].split(/\s+/)).filter((t) => t.endsWith('/'));
  return [...new Set(names.map((t) => t.slice(0, -1)))].sort();
}

describe("README's layout section", () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Layout\n'), readme.indexOf('\n## ', readme.indexOf('\n## Layout\n') + 1));
  const tree = section.slice(section.indexOf('```\n') + 4, section.lastIndexOf('```')).split('\n');

  it.each(['src', 'test'])('names exactly the folders of %s/', (top) => {
    expect(named(tree, top)).toEqual(folders(top));
  });
});
