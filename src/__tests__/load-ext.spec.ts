import { loadsExtension } from '../load-ext';

describe('loadsExtension', () => {
  it('finds a %load_ext or %reload_ext line in any cell', () => {
    expect(loadsExtension(['import os', '%load_ext seedance_jupyter'])).toBe(
      true
    );
    expect(loadsExtension(['x = 1\n  %reload_ext seedance_jupyter'])).toBe(
      true
    );
  });

  it('is not fooled by other extensions, comments or prefixes', () => {
    expect(loadsExtension(['%load_ext seedance_jupyter_extra'])).toBe(false);
    expect(loadsExtension(['# %load_ext seedance_jupyter'])).toBe(false);
    expect(loadsExtension(['%load_ext autoreload', ''])).toBe(false);
    expect(loadsExtension([])).toBe(false);
  });
});
