// Timers for the agent that move only when a test says so.
import type { Timers } from "@/agent/timers";

type Entry = { at: number; fn: () => void; id: number };

export class FakeTimers implements Timers {
  private t: number;
  private entries: Entry[] = [];
  private seq = 0;
  // what setTimeout was asked for, in order (backoff checks read it)
  requested: number[] = [];
  random = () => 0.5;

  constructor(start = Date.now()) {
    this.t = start;
  }

  now = () => this.t;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const e = { at: this.t + Math.max(0, ms), fn, id: ++this.seq };
    this.requested.push(ms);
    this.entries.push(e);
    return e.id;
  };

  clearTimeout = (h: unknown): void => {
    this.entries = this.entries.filter((e) => e.id !== h);
  };

  pending(): number[] {
    return this.entries.map((e) => e.at - this.t).sort((a, b) => a - b);
  }

  // Moves time forward by ms, running each timer due on the way (and the I/O it starts).
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await settle();
      const due = this.entries
        .filter((e) => e.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.entries = this.entries.filter((e) => e !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = target;
    await settle();
  }
}

// lets promise chains and pending I/O callbacks run
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
