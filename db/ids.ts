import { monotonicFactory } from "ulid";

const ulid = monotonicFactory();

export type IdPrefix =
  | "evt"
  | "log"
  | "inc"
  | "whe"
  | "msg"
  | "dlv"
  | "evac"
  | "htk"
  | "key"
  | "mem"
  | "aud"
  | "plc"
  | "tle"
  | "att"
  | "eml"
  | "vmi"
  | "fdt"
  | "chn";

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

export const OPERATOR_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
