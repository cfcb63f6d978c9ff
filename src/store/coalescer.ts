/**
 * Group commit for hot statements: calls that arrive while a statement is in flight ride together in
 * the next one, so many concurrent callers share one round trip and one commit instead of queueing on
 * a row lock or the WAL for one each. Used by the webhook inbox (one INSERT per batch of deliveries)
 * and the rate ledger (one acquisition statement per batch of callers of a connection).
 *
 * @example
 *   const c = new Coalescer<number, number>(async (xs) => xs.map((x) => x * 2), { maxBatch: 100 });
 *   await Promise.all([c.submit(1), c.submit(2)]); // [2, 4]: the second call joins the first's batch or the next
 */
export interface CoalescerOptions {
  /** Most calls in one statement; the rest wait for the next. */
  maxBatch: number;
  /** Called when nothing is queued or in flight, so an owner can forget an idle coalescer. */
  onIdle?: () => void;
}

interface Waiter<In, Out> {
  input: In;
  resolve: (out: Out) => void;
  reject: (error: unknown) => void;
}

export class Coalescer<In, Out> {
  private queue: Waiter<In, Out>[] = [];
  /** One statement at a time: everything that arrives meanwhile joins the next. */
  private busy = false;

  /** `run` gets the batch in arrival order and answers one result per input, in the same order. */
  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly options: CoalescerOptions,
  ) {}

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.busy = true;
    void this.flush(batch).finally(() => {
      this.busy = false;
      this.pump();
      if (!this.busy) this.options.onIdle?.();
    });
  }

  private async flush(batch: Waiter<In, Out>[]): Promise<void> {
    let outs: Out[];
    try {
      outs = await this.run(batch.map((w) => w.input));
      if (outs.length !== batch.length)
        throw new Error(`coalesced statement answered ${outs.length} results for ${batch.length} calls`);
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => w.resolve(outs[i]!));
  }
}
