import { promptBodyLines } from '../magic-body';

describe('promptBodyLines', () => {
  it('is every line after a %%seedance line with flags', () => {
    expect(
      promptBodyLines('%%seedance -d 4 -r 720p\nA boat\nin the rain')
    ).toEqual({ first: 1, last: 2 });
  });

  it('is every line after a bare %%seedance line', () => {
    expect(promptBodyLines('%%seedance\nA boat')).toEqual({
      first: 1,
      last: 1
    });
  });

  it('skips leading blank and whitespace-only lines, as IPython does', () => {
    expect(promptBodyLines('\n  \t\n%%seedance -d 4\nA boat')).toEqual({
      first: 3,
      last: 3
    });
  });

  it('allows an indent that every line shares, as IPython dedents the cell', () => {
    expect(promptBodyLines('  %%seedance\n  A boat\n\n  at dusk')).toEqual({
      first: 1,
      last: 3
    });
  });

  it('is none when the magic line is indented more than the body', () => {
    expect(promptBodyLines('  %%seedance\nA boat')).toBeNull();
  });

  it('splits CRLF line endings like LF', () => {
    expect(promptBodyLines('%%seedance -d 4\r\nA boat\r\nat dusk')).toEqual({
      first: 1,
      last: 2
    });
  });

  it('is none for %%seedance? (IPython shows help)', () => {
    expect(promptBodyLines('%%seedance?\nA boat')).toBeNull();
    expect(promptBodyLines('%%seedance??\nA boat')).toBeNull();
  });

  it('is none for the %seedance line magic', () => {
    expect(promptBodyLines('%seedance jobs\nprint(1)')).toBeNull();
  });

  it('is none for other cell magics, including longer names', () => {
    expect(promptBodyLines('%%time\nfor x in y: pass')).toBeNull();
    expect(promptBodyLines('%%seedance2 -d 4\nA boat')).toBeNull();
  });

  it('is none when the magic is not the first non-blank line', () => {
    expect(promptBodyLines('x = 1\n%%seedance\nA boat')).toBeNull();
    expect(promptBodyLines('# %%seedance\nA boat')).toBeNull();
  });

  it('is none for a magic line with nothing after it, or an empty cell', () => {
    expect(promptBodyLines('%%seedance -d 4')).toBeNull();
    expect(promptBodyLines('')).toBeNull();
  });
});
