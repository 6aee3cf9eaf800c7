import type { ESLint } from "eslint";

export function importTarget(
  fromFile: string,
  spec: string,
  root: string,
): string | null;
export function layerViolation(
  from: string,
  to: string,
  typeOnly: boolean,
): string | null;
declare const plugin: ESLint.Plugin;
export default plugin;
