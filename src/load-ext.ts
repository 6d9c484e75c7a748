/** Whether a notebook already loads the kernel extension (so new cells can use the magic). */
export const LOAD_EXT = '%load_ext seedance_jupyter';

/**
 * Loads the extension in the kernel without output (no-op when loaded), so a cell
 * inserted and run at once works even if the notebook's `%load_ext` cell never ran.
 */
export const SILENT_LOAD =
  "get_ipython().extension_manager.load_extension('seedance_jupyter')";

const LOADS_EXT = /^\s*%(re)?load_ext\s+seedance_jupyter\b/m;

export function loadsExtension(sources: readonly string[]): boolean {
  return sources.some(s => LOADS_EXT.test(s));
}
