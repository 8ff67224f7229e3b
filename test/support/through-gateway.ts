/** Set up before each file of the jest project "browser through the gateway": see browser-suite.ts. */
process.env.BROWSER_API = "gateway";
