import { currentSessionId, signInThroughApp, signUpThroughApp } from "../support/app-driver";
import { browserSuite } from "../support/browser-suite";
import { PASSWORD, uniqueEmail } from "../support/users";

/** MAX_SESSIONS_PER_USER in real Chromium: the evicted device is told at once, and why. */
const suite = browserSuite({ MAX_SESSIONS_PER_USER: "2" });

describe("with a limit of two sessions", () => {
  it("a third sign-in signs out the least recently active device, which says why, and leaves the other signed in", async () => {
    const email = uniqueEmail();
    const a = await signUpThroughApp(await suite.newDevice(), suite.app, { email, password: PASSWORD, deviceName: "Old tablet" });
    const b = await signInThroughApp(await suite.newDevice(), suite.app, { email, password: PASSWORD, deviceName: "Phone" });
    const aId = await currentSessionId(a);
    const bId = await currentSessionId(b);
    // A has been idle longest: its last activity is an hour ago.
    await suite.server.sql("UPDATE sessions SET last_active_at = now() - interval '1 hour' WHERE id = $1", [aId]);

    // Once C shows its devices page its sign-in has committed; A must already be on its way out.
    const c = await signInThroughApp(await suite.newDevice(), suite.app, { email, password: PASSWORD, deviceName: "Laptop" });
    await a.getByTestId("signed-out").waitFor({ timeout: 1000 });
    expect(await a.getByTestId("signed-out").getAttribute("data-reason")).toBe("SESSION_LIMIT");
    expect(await a.getByTestId("signed-out").textContent()).toContain("Too many devices were signed in");

    // B stays signed in and sees the new device; C lists exactly B and itself.
    expect(await b.getByTestId("devices-page").isVisible()).toBe(true);
    await b.getByTestId("new-sign-in").waitFor();
    const cId = await currentSessionId(c);
    const rows = await c.getByTestId("session-row").evaluateAll((els) => els.map((el) => el.getAttribute("data-session-id")));
    expect(rows.sort()).toEqual([bId, cId].sort());
    const [row] = await suite.server.sql<{ revoked_reason: string }>("SELECT revoked_reason FROM sessions WHERE id = $1", [aId]);
    expect(row.revoked_reason).toBe("SESSION_LIMIT");
  });
});
