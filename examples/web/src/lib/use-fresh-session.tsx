import { useCallback, useState } from "react";
import { ReauthDialog } from "../components/reauth-dialog";
import { isNotFresh } from "./errors";

interface Pending {
  action: string;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Runs a sensitive action; when the server answers SESSION_NOT_FRESH, shows the password
 * dialog and runs the action once more after the password is confirmed. `dialog` must be
 * rendered by the caller.
 */
export function useFreshSession() {
  const [pending, setPending] = useState<Pending | null>(null);

  const withFreshSession = useCallback(async <T,>(action: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (!isNotFresh(error)) throw error;
      await new Promise<void>((resolve, reject) => setPending({ action, resolve, reject }));
      return run();
    }
  }, []);

  const dialog = pending && (
    <ReauthDialog
      action={pending.action}
      onConfirmed={() => {
        setPending(null);
        pending.resolve();
      }}
      onCancel={() => {
        setPending(null);
        pending.reject(new Error("cancelled"));
      }}
    />
  );
  return { withFreshSession, dialog };
}
