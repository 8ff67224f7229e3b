export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; !check(); ) {
    if (Date.now() > end) throw new Error("timed out");
    await sleep(20);
  }
}

/** Retries `assertion` every 50 ms until it passes; after `timeoutMs` its last failure is thrown. */
export async function eventually(assertion: () => Promise<void>, timeoutMs = 2000): Promise<void> {
  for (const end = Date.now() + timeoutMs; ; ) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > end) throw error;
      await sleep(50);
    }
  }
}
