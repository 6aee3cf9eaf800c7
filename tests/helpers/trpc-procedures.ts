import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { appRouter } from "@/server/trpc/router";
import type { Caller } from "./trpc";

// The router's procedure map (flat, dotted paths) and a way to call any of them by path, so
// tests iterate every procedure, also one added after they were written.

type AnyProc = {
  _def: { type: "query" | "mutation" | "subscription"; inputs?: unknown[] };
};

export const procedureMap = (
  appRouter._def as unknown as { procedures: Record<string, AnyProc> }
).procedures;
export const procedurePaths = Object.keys(procedureMap).sort();

export function callPath(
  c: Caller,
  path: string,
  input: unknown,
): Promise<unknown> {
  let fn: unknown = c;
  for (const part of path.split("."))
    fn = (fn as Record<string, unknown>)[part];
  return (fn as (i: unknown) => Promise<unknown>)(input);
}

// "OK" or the TRPCError code; anything else is rethrown.
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    if (e instanceof TRPCError) return e.code;
    throw e;
  }
}

// The keys of a procedure's object input (merged over its .input() calls), or [] when it takes none.
export function inputKeys(path: string): string[] {
  const keys = new Set<string>();
  for (const p of procedureMap[path]?._def.inputs ?? []) {
    if (p instanceof z.ZodObject)
      for (const k of Object.keys(p.shape as object)) keys.add(k);
  }
  return [...keys];
}
