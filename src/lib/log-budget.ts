import type { Logger } from "./logger";

export interface LogBudgetOptions {
  /** Warnings written per window, all kinds together; the rest are only counted. */
  perWindow: number;
  windowMs: number;
}

/**
 * A global budget on warnings a client can cause at will (a refused browser origin, a socket
 * past its cap, a malformed frame): at most `perWindow` lines per window, whatever their
 * kind or content, so two thousand distinct origins cannot write two thousand lines. What the
 * budget held back is summed up in one line when its window ends:
 * `{"suppressed":1990,"msg":"suppressed repeated warnings"}`.
 */
export function logBudget(logger: Logger, { perWindow, windowMs }: LogBudgetOptions) {
  let written = 0;
  let suppressed = 0;
  let window: NodeJS.Timeout | undefined;
  const endWindow = () => {
    window = undefined;
    written = 0;
    if (suppressed === 0) return;
    logger.warn({ suppressed }, "suppressed repeated warnings");
    suppressed = 0;
  };
  return {
    warn(fields: Record<string, unknown>, message: string): void {
      if (!window) window = setTimeout(endWindow, windowMs).unref();
      if (written >= perWindow) {
        suppressed++;
        return;
      }
      written++;
      logger.warn(fields, message);
    },
    /** Writes the summary now (at shutdown), if anything was held back. */
    flush(): void {
      clearTimeout(window);
      endWindow();
    },
  };
}

export type LogBudget = ReturnType<typeof logBudget>;
