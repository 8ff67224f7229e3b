import { randomBytes } from "node:crypto";
import { type Answer, codes, gql, hasData } from "./http";

/**
 * Steady load on one server from a few simulated devices, each a signed-in user running a
 * cycle of operations that all need the database. Every answer is kept with its operation,
 * so a drill can judge each one against the moment it injected the fault.
 */
export const DRILL_PASSWORD = "drill password, not a secret";

export const OPERATIONS = {
  me: "query { me { id } }",
  mySessions: "query { mySessions { id current } }",
  login: "mutation ($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken refreshToken } }",
  register: "mutation ($e: String!, $p: String!) { register(input: { email: $e, password: $p }) { accessToken refreshToken } }",
  refreshSession: "mutation ($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }",
  logoutAllDevices: "mutation { logoutAllDevices(keepCurrent: true) }",
} as const;
export type Operation = keyof typeof OPERATIONS;

export interface Sample {
  op: Operation;
  answer: Answer;
}

interface Device {
  email: string;
  accessToken: string;
  refreshToken: string;
}

type Credentials = { accessToken: string; refreshToken: string };

export const uniqueEmail = () => `drill-${randomBytes(6).toString("hex")}@example.test`;

async function register(url: string): Promise<Device> {
  const email = uniqueEmail();
  const res = await gql(url, OPERATIONS.register, { e: email, p: DRILL_PASSWORD });
  const signedIn = (res.json?.data as { register?: Credentials } | undefined)?.register;
  if (!signedIn) throw new Error(`drill: could not register a device (${res.status} ${res.body.slice(0, 200)})`);
  return { email, ...signedIn };
}

export interface LoadOptions {
  /** Devices running at once, one request in flight each. */
  devices: number;
  /** The cycle each device runs (default: every operation). */
  operations?: readonly Operation[];
  /** Pause between a device's requests, to keep the CPU for the server. */
  pauseMs?: number;
  /** Passed to every call: past it an answer counts as "no answer". */
  timeoutMs?: number;
}

export interface Load {
  readonly samples: readonly Sample[];
  stop(): Promise<Sample[]>;
}

/** Registers the devices (the database must be up), then runs them until stop(). */
export async function startLoad(url: string, options: LoadOptions): Promise<Load> {
  const devices = await Promise.all(Array.from({ length: options.devices }, () => register(url)));
  const cycle = options.operations ?? (Object.keys(OPERATIONS) as Operation[]);
  const samples: Sample[] = [];
  let running = true;

  async function step(device: Device, op: Operation): Promise<void> {
    const variables =
      op === "login"
        ? { e: device.email, p: DRILL_PASSWORD }
        : op === "register"
          ? { e: uniqueEmail(), p: DRILL_PASSWORD }
          : op === "refreshSession"
            ? { t: device.refreshToken }
            : undefined;
    const token = op === "login" || op === "register" || op === "refreshSession" ? undefined : device.accessToken;
    const answer = await gql(url, OPERATIONS[op], variables, { token, timeoutMs: options.timeoutMs });
    samples.push({ op, answer });
    const data = answer.json?.data as Record<string, Credentials | undefined> | undefined;
    // A device keeps the newest credentials it was given; login's are a new session of its own.
    if (op === "login" && data?.login) Object.assign(device, data.login);
    if (op === "refreshSession" && data?.refreshSession) Object.assign(device, data.refreshSession);
    // A refresh answered 503 may still have committed (the answer was lost with the database):
    // its token is then spent, and the device signs in again, as a client would.
    if (!hasData(answer) && codes(answer).some((c) => c === "UNAUTHENTICATED" || c === "REFRESH_TOKEN_ROTATED")) {
      const again = await gql(url, OPERATIONS.login, { e: device.email, p: DRILL_PASSWORD }, { timeoutMs: options.timeoutMs });
      const login = (again.json?.data as { login?: Credentials } | undefined)?.login;
      samples.push({ op: "login", answer: again });
      if (login) Object.assign(device, login);
    }
  }

  const runs = devices.map(async (device, i) => {
    for (let n = i; running; n++) {
      await step(device, cycle[n % cycle.length]);
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  });
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(runs);
      return samples;
    },
  };
}
