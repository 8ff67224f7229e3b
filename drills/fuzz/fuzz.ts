import { request } from "node:http";
import { connect } from "node:net";
import WebSocket from "ws";
import { Random } from "../support/random";
import {
  ACCESS,
  CLASSES,
  EMAIL,
  type FuzzCase,
  type FuzzClass,
  type HttpCase,
  type RawCase,
  REFRESH,
  SESSION,
  type WsCase,
} from "./cases";
import { MARKER } from "./corpus";
import { checkHttpAnswer, checkWsOutcome, type HttpAnswer, type WsOutcome } from "./properties";

export interface FuzzOptions {
  /** The server's GraphQL URL (http://host:port/graphql); WebSocket on the same path. */
  url: string;
  seed: number;
  /** Time for all classes together, shared equally. */
  budgetMs: number;
  classes?: readonly FuzzClass[];
  /** Replays one case (FUZZ_CASE=class:index) instead of a budget. */
  only?: { fuzzClass: FuzzClass; index: number };
  /** The server's log so far: a line at error level or above during a class fails it. */
  logLines?: () => readonly string[];
}

export interface FuzzFailure {
  fuzzClass: FuzzClass;
  /** With the seed, replays the case: FUZZ_SEED=<seed> FUZZ_CASE=<class>:<index>. */
  index: number;
  problems: string[];
  sent: string;
  answer: string;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  byClass: Record<string, number>;
  /** Every `extensions.code` seen, and every close code the server sent. */
  codes: Set<string>;
  closeCodes: Set<number>;
  failures: FuzzFailure[];
}

interface Credentials {
  email: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

/** The generator of one case: the same seed, class and index always give the same case. */
export function caseRandom(seed: number, fuzzClass: FuzzClass, index: number): Random {
  const classIndex = Object.keys(CLASSES).indexOf(fuzzClass) + 1;
  return new Random((seed ^ Math.imul(classIndex, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

function fill(text: string, credentials: Credentials): string {
  return text
    .split(ACCESS)
    .join(credentials.accessToken)
    .split(REFRESH)
    .join(credentials.refreshToken)
    .split(SESSION)
    .join(credentials.sessionId)
    .split(EMAIL)
    .join(credentials.email);
}

const truncate = (text: string, max = 600) => (text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text);

function sendHttp(url: URL, c: HttpCase, credentials: Credentials): Promise<HttpAnswer> {
  const headers = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, fill(v, credentials)]));
  const body = typeof c.body === "string" ? fill(c.body, credentials) : c.body;
  // Node frames a DELETE or OPTIONS body only when told its length.
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  return new Promise((resolve) => {
    const req = request(
      { host: url.hostname, port: url.port, method: c.method, path: fill(c.path, credentials), headers, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", () => resolve({ status: 0, contentType: "", body: "(response aborted)" }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer in 10 s")));
    req.on("error", (error) => resolve({ status: 0, contentType: "", body: `(no answer: ${error.message})` }));
    req.end(body);
  });
}

function sendWs(url: URL, c: WsCase, credentials: Credentials): Promise<WsOutcome> {
  const wsUrl = url.toString().replace(/^http/, "ws");
  return new Promise((resolve) => {
    const outcome: WsOutcome = { messages: [] };
    const socket = new WebSocket(wsUrl, c.protocols);
    const done = () => {
      clearTimeout(timer);
      resolve(outcome);
    };
    // Long enough for the server to answer what it was sent; a socket still open then is fine.
    const timer = setTimeout(() => {
      socket.removeAllListeners("close");
      socket.removeAllListeners("message");
      socket.on("error", () => undefined);
      socket.terminate();
      done();
    }, 600);
    socket.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        outcome.refused = {
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
        };
        done();
      });
    });
    // The client itself gives up on a server that picked none of the subprotocols it asked for
    // (graphql-ws then closes 4406, which a client asking for none sees).
    let clientAborted = false;
    socket.on("error", (error) => (clientAborted ||= /no subprotocol|Server sent a subprotocol/.test(error.message)));
    socket.on("message", (data) => outcome.messages.push(String(data)));
    socket.on("close", (code, reason) => {
      if (!clientAborted) outcome.close = { code, reason: String(reason) };
      done();
    });
    // After a connection_init the next frame waits for the answer (the ack), as a client does,
    // so that what follows reaches an acknowledged connection.
    let answered: () => void = () => undefined;
    socket.on("message", () => answered());
    socket.on("open", async () => {
      for (const frame of c.frames) {
        if (socket.readyState !== WebSocket.OPEN) break;
        if ("text" in frame) socket.send(fill(frame.text, credentials));
        else if ("binary" in frame) socket.send(Buffer.from(fill(frame.binary.toString("utf8"), credentials)), { binary: true });
        else socket.send(frame.invalidUtf8, { binary: false });
        if ("text" in frame && frame.text.includes('"connection_init"')) {
          await new Promise<void>((resolve) => {
            answered = resolve;
            setTimeout(resolve, 150);
          });
        }
      }
    });
  });
}

/** A raw upgrade request; the answer is parsed only when it is not 101 Switching Protocols. */
function sendRaw(url: URL, c: RawCase): Promise<HttpAnswer & { switched: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let data = Buffer.alloc(0);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString("utf8");
      const [head, ...rest] = text.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /\r\ncontent-type: *([^\r\n]*)/i.exec(head)?.[1] ?? "";
      let body = rest.join("\r\n\r\n");
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) body = unchunk(body);
      resolve({ status, contentType, body, switched: status === 101 });
    };
    const timer = setTimeout(finish, 400);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.toString("latin1").startsWith("HTTP/1.1 101")) finish();
    });
    socket.on("end", finish);
    socket.on("error", finish);
    socket.write(c.request);
  });
}

async function signIn(url: string, label: string): Promise<Credentials> {
  const email = `fuzz-${label}-${Date.now()}-${Math.floor(Math.random() * 1e9)}@example.test`;
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query:
        "mutation ($e: String!, $p: String!) { register(input: { email: $e, password: $p }) { accessToken refreshToken session { id } } }",
      variables: { e: email, p: MARKER },
    }),
  });
  const json = (await res.json()) as {
    data?: { register: { accessToken: string; refreshToken: string; session: { id: string } } };
  };
  if (!json.data) throw new Error(`fuzz: could not register the fuzz user: ${JSON.stringify(json)}`);
  const { accessToken, refreshToken, session } = json.data.register;
  return { email, accessToken, refreshToken, sessionId: session.id };
}

/** `{ __typename }` still answers: the class left the server working. */
async function stillAnswers(url: string): Promise<string | null> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"query":"{ __typename }"}',
      signal: AbortSignal.timeout(5000),
    });
    const body = await res.text();
    const typename = (JSON.parse(body) as { data?: { __typename?: string } }).data?.__typename;
    return res.status === 200 && typename === "Query" ? null : `{ __typename } answered ${res.status} ${body}`;
  } catch (error) {
    return `{ __typename } did not answer: ${(error as Error).message}`;
  }
}

function describeCase(c: FuzzCase): string {
  if (c.kind === "http") {
    const body =
      c.body === undefined ? "" : typeof c.body === "string" ? c.body : `<${c.body.length} bytes> ${c.body.toString("utf8")}`;
    return truncate(`${c.method} ${c.path} ${JSON.stringify(c.headers)} ${body}`);
  }
  if (c.kind === "ws")
    return truncate(
      `ws ${JSON.stringify(c.protocols)} ${c.frames.map((f) => ("text" in f ? f.text : "binary" in f ? `<binary ${f.binary.toString("utf8")}>` : "<invalid UTF-8>")).join(" | ")}`,
    );
  return truncate(JSON.stringify(c.request));
}

/**
 * Runs the seeded fuzzer against a live server: each class in turn for its share of the
 * budget, one case at a time (WebSocket cases a few at a time), every answer checked, and
 * `{ __typename }` asked after each class. Failures name the seed, class and index that
 * replay them.
 */
export async function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const url = new URL(options.url);
  const classes = options.only ? [options.only.fuzzClass] : (options.classes ?? (Object.keys(CLASSES) as FuzzClass[]));
  const report: FuzzReport = { seed: options.seed, cases: 0, byClass: {}, codes: new Set(), closeCodes: new Set(), failures: [] };
  const perClassMs = options.budgetMs / classes.length;

  for (const fuzzClass of classes) {
    const credentials = await signIn(options.url, fuzzClass);
    const logsBefore = options.logLines?.().length ?? 0;
    const deadline = Date.now() + perClassMs;
    const fail = (index: number, problems: string[], c: FuzzCase, answer: string) =>
      report.failures.length < 50 &&
      report.failures.push({ fuzzClass, index, problems, sent: describeCase(c), answer: truncate(answer) });

    const runOne = async (index: number) => {
      const c = CLASSES[fuzzClass](caseRandom(options.seed, fuzzClass, index));
      if (c.kind === "http") {
        const answer = await sendHttp(url, c, credentials);
        collectCodes(answer.body, report.codes);
        const problems = answer.status === 0 ? ["no answer"] : checkHttpAnswer(answer, { emptyAllowed: c.method === "OPTIONS" });
        if (problems.length) fail(index, problems, c, `${answer.status} ${answer.contentType} ${answer.body}`);
      } else if (c.kind === "ws") {
        const outcome = await sendWs(url, c, credentials);
        if (outcome.close) report.closeCodes.add(outcome.close.code);
        if (outcome.refused) collectCodes(outcome.refused.body, report.codes);
        for (const message of outcome.messages) collectCodes(message, report.codes);
        const problems = checkWsOutcome(outcome);
        if (problems.length) fail(index, problems, c, JSON.stringify(outcome));
      } else {
        const answer = await sendRaw(url, c);
        collectCodes(answer.body, report.codes);
        const problems = answer.switched ? [] : answer.status === 0 ? ["no answer"] : checkHttpAnswer(answer);
        if (problems.length) fail(index, problems, c, `${answer.status} ${answer.contentType} ${answer.body}`);
      }
    };

    let index = 0;
    if (options.only) {
      await runOne(options.only.index);
      index = 1;
    } else {
      const parallel = fuzzClass === "websocket" || fuzzClass === "upgrade" ? 8 : 1;
      while (Date.now() < deadline) {
        await Promise.all(Array.from({ length: parallel }, (_, i) => runOne(index + i)));
        index += parallel;
      }
    }
    report.cases += index;
    report.byClass[fuzzClass] = index;
    const alive = await stillAnswers(options.url);
    if (alive) report.failures.push({ fuzzClass, index: -1, problems: [alive], sent: "(after the class)", answer: "" });
    const logged = (options.logLines?.() ?? []).slice(logsBefore).filter((line) => /"level":(50|60)/.test(line));
    for (const line of logged.slice(0, 3))
      report.failures.push({
        fuzzClass,
        index: -1,
        problems: ["the server logged an error"],
        sent: "(during the class)",
        answer: truncate(line),
      });
  }
  return report;
}

function collectCodes(text: string, into: Set<string>) {
  for (const match of text.matchAll(/"code":"([A-Z_]+)"/g)) into.add(match[1]);
}

/** The body of a chunked HTTP/1.1 answer. */
function unchunk(raw: string): string {
  let body = "";
  for (let rest = raw; ; ) {
    const eol = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, eol), 16);
    if (eol < 0 || !(size > 0)) return body;
    body += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
