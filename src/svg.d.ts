// The builder bundles .svg imports as strings (LabIcon takes the markup).
declare module '*.svg' {
  const markup: string;
  export default markup;
}
