/** Whether a notebook already loads the kernel extension (so new cells can use the magic). */
export const LOAD_EXT = '%load_ext seedance_jupyter';

const LOADS_EXT = /^\s*%(re)?load_ext\s+seedance_jupyter\b/m;

export function loadsExtension(sources: readonly string[]): boolean {
  return sources.some(s => LOADS_EXT.test(s));
}
