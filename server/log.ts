// Structured logs: one JSON object per line on stdout/stderr.
type Fields = Record<string, unknown>;

function serialise(fields: Fields): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] =
      v instanceof Error
        ? { message: v.message, name: v.name, stack: v.stack }
        : v;
  }
  return out;
}

function write(
  level: "debug" | "info" | "warn" | "error",
  msg: string,
  fields: Fields = {},
) {
  if (level === "debug" && !process.env.POISONWATCH_DEBUG) return;
  if (process.env.VITEST && level !== "error" && !process.env.POISONWATCH_DEBUG)
    return;
  const line = JSON.stringify({
    time: new Date().toISOString(),
    level,
    msg,
    ...serialise(fields),
  });
  (level === "error" || level === "warn"
    ? process.stderr
    : process.stdout
  ).write(line + "\n");
}

export const log = {
  debug: (msg: string, f?: Fields) => write("debug", msg, f),
  info: (msg: string, f?: Fields) => write("info", msg, f),
  warn: (msg: string, f?: Fields) => write("warn", msg, f),
  error: (msg: string, f?: Fields) => write("error", msg, f),
};
