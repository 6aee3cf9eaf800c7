// The durable spool: every event is appended to a segment file and fdatasync'ed before anyone is
// told it was taken; a cursor file says how far the service has answered. Each record is one line
// `<crc32 hex> <json>\n`, so a torn last write (no newline, or a checksum that does not match) is
// recognised at start and cut off; it was never acknowledged, since the sync had not returned.
import {
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
  unlinkSync,
  closeSync,
} from "node:fs";
import {
  open,
  readdir,
  readFile,
  rename,
  unlink,
  writeFile,
} from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "./log";
import type { Metrics } from "./metrics";

export type Position = { seg: number; off: number };
export type Batch = {
  events: { id: string; json: string }[];
  bodyBytes: number;
  end: Position;
};
type Segment = { seq: number; size: number };

// a record is at most this long; an intake line is bounded well below it
export const MAX_RECORD_BYTES = 256 * 1024;

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc32(buf: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < buf.length; i++)
    c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export function encodeRecord(json: string): Buffer {
  const body = Buffer.from(json);
  return Buffer.concat([
    Buffer.from(crc32(body).toString(16).padStart(8, "0") + " "),
    body,
    Buffer.from("\n"),
  ]);
}

type Parsed = {
  records: { off: number; len: number; json: string; id: string }[];
  bad: { off: number; len: number }[];
  tail: number;
};

// Complete lines of buf (starting at file offset base): good records, bad ones, and the length of
// the unterminated tail.
function parseLines(buf: Buffer, base: number): Parsed {
  const out: Parsed = { records: [], bad: [], tail: 0 };
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) {
      out.tail = buf.length - start;
      return out;
    }
    const line = buf.subarray(start, nl);
    const rec = decodeLine(line);
    if (rec)
      out.records.push({ off: base + start, len: nl + 1 - start, ...rec });
    else out.bad.push({ off: base + start, len: nl + 1 - start });
    start = nl + 1;
  }
}

function decodeLine(line: Buffer): { json: string; id: string } | null {
  if (line.length < 10 || line[8] !== 32) return null;
  const want = Number.parseInt(line.subarray(0, 8).toString("latin1"), 16);
  const body = line.subarray(9);
  if (
    !/^[0-9a-f]{8}$/.test(line.subarray(0, 8).toString("latin1")) ||
    crc32(body) !== want
  )
    return null;
  const json = body.toString("utf8");
  try {
    const id = (JSON.parse(json) as { id?: unknown }).id;
    return typeof id === "string" ? { json, id } : null;
  } catch {
    return null;
  }
}

const segName = (seq: number) => `${String(seq).padStart(12, "0")}.seg`;

export type SpoolOptions = {
  segmentBytes?: number;
  maxBytes?: number;
  log: Logger;
  metrics: Metrics;
};

export class Spool {
  private segments: Segment[] = [];
  private active!: { seq: number; fh: FileHandle; size: number };
  private cursor: Position = { seg: 0, off: 0 };
  private queue: {
    line: Buffer;
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];
  private writing: Promise<void> | null = null;
  private listeners = new Set<() => void>();
  private lockPath: string;
  private overLimit = false;
  private closed = false;
  pendingEvents = 0;
  pendingBytes = 0;
  private appends = 0;
  readonly segmentBytes: number;
  readonly maxBytes: number;

  private constructor(
    readonly dir: string,
    private opts: SpoolOptions,
  ) {
    this.segmentBytes = opts.segmentBytes ?? 8 * 1024 * 1024;
    this.maxBytes = opts.maxBytes ?? 1024 * 1024 * 1024;
    this.lockPath = path.join(dir, "lock");
  }

  static async open(dir: string, opts: SpoolOptions): Promise<Spool> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const s = new Spool(dir, opts);
    s.takeLock();
    try {
      await s.recover();
    } catch (e) {
      s.releaseLock();
      throw e;
    }
    return s;
  }

  // One agent per spool: a second one would ship and delete the same events.
  private takeLock(): void {
    for (let i = 0; i < 2; i++) {
      try {
        const fd = openSync(this.lockPath, "wx", 0o600);
        writeFileSync(fd, String(process.pid));
        closeSync(fd);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        const pid = Number(readFileSync(this.lockPath, "utf8").trim());
        if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
          throw new Error(`spool ${this.dir} is in use by process ${pid}`);
        }
        unlinkSync(this.lockPath); // left by a process that is gone
      }
    }
    throw new Error(`could not lock spool ${this.dir}`);
  }

  private releaseLock(): void {
    try {
      unlinkSync(this.lockPath);
    } catch {
      /* already gone */
    }
  }

  private async recover(): Promise<void> {
    const names = (await readdir(this.dir))
      .filter((n) => /^\d{12}\.seg$/.test(n))
      .sort();
    const seqs = names.map((n) => Number(n.slice(0, 12)));
    try {
      const c = JSON.parse(
        await readFile(path.join(this.dir, "cursor"), "utf8"),
      ) as Position;
      if (Number.isInteger(c.seg) && Number.isInteger(c.off) && c.off >= 0)
        this.cursor = c;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT")
        this.opts.log.error(
          "spool cursor unreadable; shipping the whole spool again (resends are duplicates)",
          { err: e },
        );
    }
    if (!seqs.includes(this.cursor.seg))
      this.cursor = {
        seg: seqs.find((s) => s > this.cursor.seg) ?? (seqs.at(-1) ?? 0) + 1,
        off: 0,
      };
    for (const seq of seqs) {
      const file = path.join(this.dir, segName(seq));
      if (seq < this.cursor.seg) {
        await unlink(file);
        continue;
      }
      const buf = await readFile(file);
      const parsed = parseLines(buf, 0);
      let size = buf.length;
      if (parsed.tail > 0) {
        size -= parsed.tail;
        const fh = await open(file, "r+");
        await fh.truncate(size);
        await fh.datasync();
        await fh.close();
        this.opts.log.warn(
          "spool: cut a torn last record (written but never acknowledged)",
          { segment: segName(seq), bytes: parsed.tail },
        );
        this.opts.metrics.inc(
          "poisonwatch_agent_spool_torn_records_total",
          "Torn last records cut from the spool at start (never acknowledged)",
        );
      }
      for (const b of parsed.bad)
        await this.quarantine(seq, b.off, buf.subarray(b.off, b.off + b.len));
      if (seq === this.cursor.seg && this.cursor.off > size)
        this.cursor.off = size;
      for (const r of parsed.records) {
        if (seq === this.cursor.seg && r.off < this.cursor.off) continue;
        this.pendingEvents += 1;
        this.pendingBytes += r.len;
      }
      this.segments.push({ seq, size });
    }
    const seq = (seqs.at(-1) ?? this.cursor.seg - 1) + 1;
    await this.openSegment(Math.max(seq, this.cursor.seg));
    this.checkLimit();
  }

  // A complete line whose checksum fails is not a torn write but damage: keep its bytes for a
  // person, say so loudly, and ship the rest.
  private async quarantine(
    seq: number,
    off: number,
    bytes: Buffer,
  ): Promise<void> {
    const file = path.join(this.dir, "corrupt.log");
    const fh = await open(file, "a", 0o600);
    await fh.write(`# ${segName(seq)} @${off}\n`);
    await fh.write(bytes);
    await fh.datasync();
    await fh.close();
    this.opts.log.error(
      "spool: a record is damaged (checksum mismatch); its bytes are kept in corrupt.log",
      { segment: segName(seq), offset: off, bytes: bytes.length },
    );
    this.opts.metrics.inc(
      "poisonwatch_agent_spool_corrupt_records_total",
      "Damaged spool records moved to corrupt.log",
    );
  }

  private async openSegment(seq: number): Promise<void> {
    const fh = await open(path.join(this.dir, segName(seq)), "wx+", 0o600);
    await syncDir(this.dir); // the new file's name is durable before any record in it is acknowledged
    this.active = { seq, fh, size: 0 };
    this.segments.push({ seq, size: 0 });
  }

  onAppend(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // Resolves once the event is on disk (written and fdatasync'ed).
  append(json: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error("spool is closed"));
    const line = encodeRecord(json);
    if (line.length > MAX_RECORD_BYTES)
      return Promise.reject(
        new Error(`event is over ${MAX_RECORD_BYTES} bytes`),
      );
    return new Promise((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  // Group commit: everything queued while the previous sync ran goes out in one write and one sync.
  private async drain(): Promise<void> {
    while (this.queue.length) {
      const group = this.queue.splice(0, this.queue.length);
      const buf = Buffer.concat(group.map((g) => g.line));
      const a = this.active;
      try {
        if (a.size > 0 && a.size + buf.length > this.segmentBytes)
          await this.rotate();
        const t0 = process.hrtime.bigint();
        await writeAll(this.active.fh, buf, this.active.size);
        await this.active.fh.datasync();
        this.opts.metrics.inc(
          "poisonwatch_agent_spool_sync_seconds_total",
          "Time spent writing and syncing spool appends",
          {},
          Number(process.hrtime.bigint() - t0) / 1e9,
        );
        this.opts.metrics.inc(
          "poisonwatch_agent_spool_syncs_total",
          "Spool write+sync groups",
        );
        this.active.size += buf.length;
        this.segments.at(-1)!.size = this.active.size;
        this.pendingEvents += group.length;
        this.pendingBytes += buf.length;
        this.appends += 1;
        for (const g of group) g.resolve();
        this.checkLimit();
        for (const l of this.listeners) l();
      } catch (e) {
        // leave no half record behind a good one; nothing of this group was acknowledged
        await this.active.fh.truncate(this.active.size).catch(() => {});
        this.opts.log.error(
          "spool: append failed; the events were not acknowledged",
          { err: e, events: group.length },
        );
        for (const g of group) g.reject(e);
      }
    }
    this.writing = null;
  }

  private async rotate(): Promise<void> {
    await this.active.fh.close();
    await this.openSegment(this.active.seq + 1);
  }

  private checkLimit(): void {
    const over = this.pendingBytes > this.maxBytes;
    if (over && !this.overLimit) {
      this.opts.log.error(
        "spool is over its configured size; nothing is dropped, but the service is not taking events fast enough",
        {
          spoolBytes: this.pendingBytes,
          maxBytes: this.maxBytes,
          events: this.pendingEvents,
        },
      );
    } else if (!over && this.overLimit) {
      this.opts.log.info("spool is back under its configured size", {
        spoolBytes: this.pendingBytes,
        maxBytes: this.maxBytes,
      });
    }
    this.overLimit = over;
  }

  get isOverLimit(): boolean {
    return this.overLimit;
  }

  // The oldest unanswered events, within the batch limits (the JSON array's bytes count).
  async peek(maxEvents: number, maxBodyBytes: number): Promise<Batch> {
    const events: Batch["events"] = [];
    const appendsBefore = this.appends;
    let bodyBytes = 2;
    const pos = { ...this.cursor };
    outer: while (events.length < maxEvents) {
      const i = this.segments.findIndex((s) => s.seq === pos.seg);
      const seg = this.segments[i];
      if (!seg) break;
      if (pos.off >= seg.size) {
        const next = this.segments[i + 1];
        if (!next) break;
        pos.seg = next.seq;
        pos.off = 0;
        continue;
      }
      const want = Math.min(
        seg.size - pos.off,
        maxBodyBytes + MAX_RECORD_BYTES,
      );
      const buf = Buffer.alloc(want);
      const fh =
        seg.seq === this.active.seq
          ? this.active.fh
          : await open(path.join(this.dir, segName(seg.seq)), "r");
      try {
        await readAll(fh, buf, pos.off);
      } finally {
        if (fh !== this.active.fh) await fh.close();
      }
      const parsed = parseLines(buf, pos.off);
      const lines = [
        ...parsed.records.map((r) => ({ ...r, ok: true })),
        ...parsed.bad.map((b) => ({ ...b, ok: false, json: "", id: "" })),
      ].sort((a, b) => a.off - b.off);
      if (!lines.length) break;
      for (const l of lines) {
        if (l.ok) {
          const bytes = Buffer.byteLength(l.json) + (events.length ? 1 : 0);
          if (
            events.length >= maxEvents ||
            (events.length > 0 && bodyBytes + bytes > maxBodyBytes)
          )
            break outer;
          events.push({ id: l.id, json: l.json });
          bodyBytes += bytes;
        }
        pos.off = l.off + l.len; // a damaged line (already reported at start) is stepped over
      }
    }
    // read to the end and found nothing: whatever the counters say, nothing is pending (so the
    // shipper can never spin on a count that drifted)
    if (!events.length && appendsBefore === this.appends) {
      this.pendingEvents = 0;
      this.pendingBytes = 0;
    }
    return { events, bodyBytes, end: pos };
  }

  // Everything before `end` has been answered by the service.
  async commit(end: Position, events: number): Promise<void> {
    const before = this.pendingBytes;
    const tmp = path.join(this.dir, "cursor.tmp");
    await writeFile(tmp, JSON.stringify(end));
    const fh = await open(tmp, "r+");
    await fh.datasync();
    await fh.close();
    await rename(tmp, path.join(this.dir, "cursor"));
    await syncDir(this.dir);
    const freed = this.bytesBetween(this.cursor, end);
    this.cursor = { ...end };
    this.pendingEvents = Math.max(0, this.pendingEvents - events);
    this.pendingBytes = Math.max(0, before - freed);
    while (this.segments.length > 1 && this.segments[0]!.seq < end.seg) {
      const s = this.segments.shift()!;
      await unlink(path.join(this.dir, segName(s.seq))).catch(() => {});
    }
    this.checkLimit();
  }

  private bytesBetween(a: Position, b: Position): number {
    let n = 0;
    for (const s of this.segments) {
      if (s.seq < a.seg || s.seq > b.seg) continue;
      const from = s.seq === a.seg ? a.off : 0;
      const to = s.seq === b.seg ? b.off : s.size;
      n += Math.max(0, to - from);
    }
    return n;
  }

  // Waits for appends under way, then closes the files.
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing) await this.writing;
    await this.active.fh.close();
    this.releaseLock();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function writeAll(
  fh: FileHandle,
  buf: Buffer,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(
      buf,
      done,
      buf.length - done,
      position + done,
    );
    done += bytesWritten;
  }
}

async function readAll(
  fh: FileHandle,
  buf: Buffer,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(
      buf,
      done,
      buf.length - done,
      position + done,
    );
    if (bytesRead === 0) break;
    done += bytesRead;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
