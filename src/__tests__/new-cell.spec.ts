import { promptBodyLines } from '../magic-body';
import { MSG } from '../messages';

describe('the cell "Insert Seedance Cell" inserts', () => {
  const lines = MSG.newCell.split('\n');

  it('starts with %%seedance and its flags', () => {
    expect(lines[0]).toBe('%%seedance -d 5 -r 720p -a 16:9');
  });

  it('has a prompt of comment lines only, so running it as is sends no prompt', () => {
    const body = promptBodyLines(MSG.newCell) ?? { first: 0, last: -1 };
    expect(body.last).toBeGreaterThan(0);
    const prompt = lines
      .slice(body.first, body.last + 1)
      .filter(line => !line.trimStart().startsWith('#'));
    expect(prompt.join('').trim()).toBe('');
    expect(lines[1].startsWith('# ')).toBe(true);
  });
});
