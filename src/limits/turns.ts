/**
 * At most `max` runs at once per key (a viewer); the others wait their turn in line, holding
 * nothing meanwhile, for as long as the line moves. Used where one requester's work in bulk would
 * crowd out everyone else's although each piece is bounded: a member opening sixty
 * `messageAdded(after:)` replays that it never reads made the server push every one of them into
 * the kernel's socket buffers (about 4 MB each) at once. With a few turns per viewer the rest
 * wait; a line that does not move for `waitMs` gives up its waiting ones, while a line whose turns
 * end keeps its waiters. Only a turn that did its work moves the line: one ended because its
 * reader stalled passes the turn on but does not restart the others' wait, so sixty stalled
 * readers in one line are all given up within about `waitMs`, not one round of stalls after another.
 */
export class Turns {
  private readonly keys = new Map<string, { running: number; waiting: Waiter[] }>();

  constructor(private readonly max: number) {}

  /** Resolves once `key` may run, with the function to call (once) when done, saying whether the
   * turn did its work; or undefined when no turn of `key` did its work (the line did not move)
   * for `waitMs`. */
  async take(key: string, waitMs: number): Promise<((worked?: boolean) => void) | undefined> {
    let entry = this.keys.get(key);
    if (!entry) this.keys.set(key, (entry = { running: 0, waiting: [] }));
    const line = entry;
    if (line.running >= this.max) {
      const turned = await new Promise<boolean>((resolve) => {
        const waiter: Waiter = {
          wake: () => {
            clearTimeout(waiter.timer);
            resolve(true);
          },
          arm: () => {
            clearTimeout(waiter.timer);
            waiter.timer = setTimeout(() => {
              line.waiting.splice(line.waiting.indexOf(waiter), 1);
              resolve(false);
            }, waitMs);
            waiter.timer.unref();
          },
        };
        waiter.arm();
        line.waiting.push(waiter);
      });
      if (!turned) return undefined;
    } else line.running += 1;
    let done = false;
    return (worked = true) => {
      if (done) return;
      done = true;
      const next = line.waiting.shift();
      // The turn passes straight to the next in line, so `running` never drops below what runs;
      // when it did its work the line moved, and those still waiting wait a full `waitMs` again.
      if (next) {
        next.wake();
        if (worked) for (const waiter of line.waiting) waiter.arm();
      } else if ((line.running -= 1) === 0) this.keys.delete(key);
    };
  }

  /** Running and waiting for `key` (tests). */
  load(key: string): { running: number; waiting: number } {
    const entry = this.keys.get(key);
    return { running: entry?.running ?? 0, waiting: entry?.waiting.length ?? 0 };
  }
}

interface Waiter {
  wake(): void;
  /** (Re)starts the wait: given up `waitMs` from now unless the line moves first. */
  arm(): void;
  timer?: NodeJS.Timeout;
}
