import { connect } from "node:net";
import { startTestServer, type TestServer } from "./support/test-server";
import { eventually, sleep } from "./support/wait";

/**
 * What a client can make the server write to its log, counted line by line: the server logs
 * at debug into `lines` (a real pino logger, JSON lines).
 */
let server: TestServer | null;
let lines: string[];
beforeEach(async () => {
  lines = [];
  server = await startTestServer({ LOG_LEVEL: "debug" }, undefined, { logLines: lines });
});
afterEach(() => server?.stop());

/** Stops the server now (the summary of suppressed warnings is written at shutdown at the latest). */
async function stopServer() {
  await server?.stop();
  server = null;
}

const records = () => lines.map((line) => JSON.parse(line) as { level: number; msg: string; [key: string]: unknown });
const WARN = 40;

describe("the log under a flood of refused origins", () => {
  it("writes at most 20 warnings for 300 distinct origins, then one line saying how many it suppressed", async () => {
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          fetch(server!.url, {
            method: "POST",
            headers: { "content-type": "application/json", origin: `https://evil-${i + j}.example` },
            body: JSON.stringify({ query: "{ __typename }" }),
          }).then((r) => r.text()),
        ),
      );
    }
    const refused = records().filter((r) => r.msg === "refused a browser origin not in CORS_ORIGINS");
    expect(refused).toHaveLength(20);
    expect(refused.every((r) => r.level === WARN)).toBe(true);
    await stopServer();
    expect(records().filter((r) => r.msg === "suppressed repeated warnings")).toEqual([
      expect.objectContaining({ level: WARN, suppressed: 280 }),
    ]);
  });
});

describe("a client that aborts its request", () => {
  it("is logged once, at debug, without a stack", async () => {
    const url = new URL(server!.url);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(
      "POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n" +
        '{"query":"{ __typ',
    );
    await sleep(100);
    socket.destroy();
    await eventually(async () => {
      expect(records().filter((r) => r.msg === "client aborted the request")).toHaveLength(1);
    });
    const aborted = records().find((r) => r.msg === "client aborted the request")!;
    expect(aborted).toMatchObject({ level: 20, method: "POST", path: "/graphql" });
    expect(JSON.stringify(aborted)).not.toMatch(/stack|err/);
    expect(records().filter((r) => r.level >= WARN)).toEqual([]);
  });
});
