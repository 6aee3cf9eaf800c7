// Group commit: work that arrives while earlier work is being written waits, and is then written
// together, in one transaction, by whoever runs next. A lone request goes straight through (it
// waits one turn of the event loop, no timer); under load, the fixed cost of a transaction (its
// round trips, the policy evaluation, the notification bookkeeping) is paid once per group
// instead of once per request. Every caller is answered only after the transaction holding its
// work has committed.
//
// If a group fails, each of its items is run again on its own, so one item's failure (or a
// deadlock with a concurrent writer) never fails the others.

export type GroupCommitOptions<T> = {
  // groups written at once (1 for PGlite, whose single connection serialises them anyway)
  maxInFlight: number;
  // a group stops growing past this weight; an item heavier than it still runs, alone
  maxWeight: number;
  weight: (item: T) => number;
};

type Waiting<T, R> = {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
};

export class GroupCommitter<T, R> {
  private queue: Waiting<T, R>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly opts: GroupCommitOptions<T>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  // A group starts on the next turn of the event loop, not at once: requests whose bytes arrived
  // in this turn reach the queue first and join it. This matters on PGlite, whose work runs in
  // this thread without yielding to I/O: a group started at once would hold the thread while the
  // requests behind it could not even be read.
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length) {
      const group: Waiting<T, R>[] = [];
      let weight = 0;
      while (this.queue.length) {
        const w = this.opts.weight(this.queue[0]!.item);
        if (group.length && weight + w > this.opts.maxWeight) break;
        group.push(this.queue.shift()!);
        weight += w;
      }
      this.inFlight += 1;
      void this.write(group).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
    }
  }

  private async write(group: Waiting<T, R>[]): Promise<void> {
    try {
      const results = await this.run(group.map((g) => g.item));
      group.forEach((g, i) => g.resolve(results[i]!));
    } catch (e) {
      if (group.length === 1) {
        group[0]!.reject(e);
        return;
      }
      for (const g of group) {
        try {
          g.resolve((await this.run([g.item]))[0]!);
        } catch (e2) {
          g.reject(e2);
        }
      }
    }
  }
}
