import { createSourceEventStream, type ExecutionArgs, type ExecutionResult, execute } from "graphql";
import type { PromiseOrValue } from "graphql/jsutils/PromiseOrValue";

/**
 * Results already computed, per event object and then per operation (its text, name and
 * variables). Weak: an event's results go when the event does.
 */
const resultsByEvent = new WeakMap<object, Map<string, PromiseOrValue<ExecutionResult>>>();

/**
 * graphql-js's `subscribe`, except that an event object pushed to many subscriptions is
 * executed once per distinct operation instead of once per subscription.
 *
 * When logoutAllDevices ends 99 sessions, the same 99 event objects go to every socket of the
 * user that stays signed in, and each ended socket hears one: executing each of them once per
 * socket was most of the delivery work (`npm run bench:live`). Sharing the result is sound
 * here because an event's fields are read from the event alone, never from the subscriber's
 * context: SessionRevokedEvent and SessionCreatedEvent are all there is under Subscription,
 * events are only ever pushed to their own user's sockets, `current` is part of a revocation
 * event itself, and a created session is never the receiving socket's own (so its `current`
 * is false for every subscriber).
 *
 * Like graphql-js (`mapAsyncIterator`), `return()` goes straight to the source, so a
 * subscription is stopped at once even while it waits for its next event.
 */
export async function subscribeSharingResults(
  args: ExecutionArgs,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in stream)) return stream;
  const source = stream[Symbol.asyncIterator]();
  const body = args.document.loc?.source.body;
  const key = body === undefined ? undefined : JSON.stringify([body, args.operationName ?? null, args.variableValues ?? null]);

  const resultFor = (event: unknown): PromiseOrValue<ExecutionResult> => {
    if (key === undefined || typeof event !== "object" || event === null) return execute({ ...args, rootValue: event });
    let results = resultsByEvent.get(event);
    if (!results) resultsByEvent.set(event, (results = new Map()));
    let result = results.get(key);
    if (!result) results.set(key, (result = execute({ ...args, rootValue: event })));
    return result;
  };

  const map = async (step: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> => {
    if (step.done) return { value: undefined, done: true };
    try {
      return { value: await resultFor(step.value), done: false };
    } catch (error) {
      await source.return?.().catch(() => undefined);
      throw error;
    }
  };

  const results: AsyncIterableIterator<ExecutionResult> = {
    next: async () => map(await source.next()),
    return: async () => (source.return ? map(await source.return()) : { value: undefined, done: true }),
    throw: async (error: unknown) => {
      if (source.throw) return map(await source.throw(error));
      await source.return?.().catch(() => undefined);
      throw error;
    },
    [Symbol.asyncIterator]: () => results,
  };
  return results;
}
