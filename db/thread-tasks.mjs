// The work that runs inside the embedded database's own thread (PGLITE_THREAD=1, see
// db/pglite-worker.mjs): server code bundled into one ES module that the thread imports, so a
// whole group transaction runs there in one message instead of a round trip per statement.
//
// Plain JavaScript, loaded from disk by the database thread and by `npm run build`; never bundled
// by Next. The bundle is made by esbuild from the TypeScript sources (packages stay in
// node_modules): `npm run build` makes it, and the thread makes it again when a source is newer
// than it (tests, `next dev`). Without esbuild or sources (a deployment that only has the built
// bundle) the bundle found is used; with neither, the thread runs no tasks and the callers send
// their statements one by one, as before.
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

export const THREAD_TASKS_ENTRY = "server/jobs/db-thread-tasks.ts";

export function threadTasksFile(root) {
  return path.join(root, ".next", "db-thread", "tasks.mjs");
}

// "fresh", "stale" (a source is newer, or one is gone) or "missing"
function state(root, out) {
  if (!existsSync(out)) return "missing";
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(`${out}.inputs.json`, "utf8"));
  } catch {
    return "stale";
  }
  const built = statSync(out).mtimeMs;
  for (const f of inputs) {
    try {
      if (statSync(path.join(root, f)).mtimeMs > built) return "stale";
    } catch {
      return "stale";
    }
  }
  return "fresh";
}

export async function buildThreadTasks(root) {
  const { build } = await import(/* turbopackIgnore: true */ "esbuild");
  const out = threadTasksFile(root);
  mkdirSync(path.dirname(out), { recursive: true });
  const r = await build({
    absWorkingDir: root,
    entryPoints: [THREAD_TASKS_ENTRY],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    jsx: "automatic",
    tsconfig: path.join(root, "tsconfig.json"),
    // the sources guard against client bundles with server-only; this is no client bundle
    alias: {
      "server-only": path.join(root, "node_modules", "server-only", "empty.js"),
    },
    logLevel: "silent",
  });
  const inputs = Object.keys(r.metafile.inputs).filter(
    (f) => !f.includes("node_modules"),
  );
  // written beside, then renamed: processes building at once never read half a file
  const tmp = `${out}.${process.pid}.${Date.now()}`;
  writeFileSync(tmp, r.outputFiles[0].contents);
  writeFileSync(`${tmp}.inputs.json`, JSON.stringify(inputs));
  renameSync(`${tmp}.inputs.json`, `${out}.inputs.json`);
  renameSync(tmp, out);
  return out;
}

// The bundle's path, made or remade when needed; null when there is none and it cannot be made.
export async function ensureThreadTasks(root) {
  const out = threadTasksFile(root);
  const s = state(root, out);
  if (s === "fresh") return out;
  if (!existsSync(path.join(root, THREAD_TASKS_ENTRY)))
    return s === "missing" ? null : out;
  return buildThreadTasks(root);
}

export async function importThreadTasks(root) {
  const file = await ensureThreadTasks(root);
  return file
    ? import(/* turbopackIgnore: true */ pathToFileURL(file).href)
    : null;
}

// `node db/thread-tasks.mjs`: build it now (npm run build)
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const out = await buildThreadTasks(process.cwd());
  console.log(`database thread tasks: ${path.relative(process.cwd(), out)}`);
}
