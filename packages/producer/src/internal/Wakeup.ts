/** A loop's sleep that `wake()` ends early: how the send loop waits for work or a deadline. */
export class Wakeup {
  #wakeup: (() => void) | null = null;

  wake(): void {
    const wakeup = this.#wakeup;
    if (wakeup !== null) {
      this.#wakeup = null;
      wakeup();
    }
  }

  /** Waits for `wake()` or `ms` (infinite: only `wake()`), whichever comes first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.#wakeup = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      if (Number.isFinite(ms)) {
        timer = setTimeout(() => {
          this.#wakeup = null;
          resolve();
        }, ms);
        timer.unref();
      }
    });
  }
}
