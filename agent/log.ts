// JSON lines on stderr: { time, level, msg, ...fields }.
export type Fields = Record<string, unknown>;
export type Level = "debug" | "info" | "warn" | "error";
export type Logger = Record<Level, (msg: string, fields?: Fields) => void>;

function serialise(fields: Fields): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields))
    out[k] =
      v instanceof Error
        ? {
            message: v.message,
            name: v.name,
            code: (v as NodeJS.ErrnoException).code,
          }
        : v;
  return out;
}

export function jsonLogger(
  write: (line: string) => void = (l) => process.stderr.write(l),
  opts: { debug?: boolean } = {},
): Logger {
  const emit =
    (level: Level) =>
    (msg: string, fields: Fields = {}) => {
      if (level === "debug" && !opts.debug) return;
      write(
        JSON.stringify({
          time: new Date().toISOString(),
          level,
          msg,
          ...serialise(fields),
        }) + "\n",
      );
    };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
  };
}
