import { PassThrough } from "node:stream";
import { createLogger, wantsPrettyLogs } from "../src/lib/logger";

describe("log format", () => {
  it.each([
    ["development", true, true],
    ["development", false, false],
    ["development", undefined, false],
    ["test", true, false],
    ["production", true, false],
  ] as const)("in %s with stdout a terminal: %s, is human-readable: %s", (env, isTTY, pretty) => {
    expect(wantsPrettyLogs(env, isTTY)).toBe(pretty);
  });

  it("prints pretty lines that still mask credentials", async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (chunk: Buffer) => (text += chunk));
    const logger = createLogger("info", out, { pretty: true });
    logger.info({ input: { password: "hunter2 hunter2" }, url: "http://127.0.0.1:4000/graphql" }, "session API ready");
    await new Promise((resolve) => setImmediate(resolve));
    expect(text).toMatch(/INFO.*session API ready/);
    expect(text).toContain("http://127.0.0.1:4000/graphql");
    expect(text).toContain("[redacted]");
    expect(text).not.toContain("hunter2");
    expect(text.trimStart()).not.toMatch(/^\{/);
  });
});
