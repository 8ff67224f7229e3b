/** Tests run the real server against a real PostgreSQL; each file gets its own schema and port. */
const swc = {
  jsc: {
    parser: { syntax: "typescript", decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: "es2022",
  },
  module: { type: "commonjs" },
  sourceMaps: "inline",
};

module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // jose (an ESM-only package) is compiled for the tests like our own source.
  transform: { "^.+\\.ts$": ["@swc/jest", swc], "/node_modules/jose/.+\\.js$": ["@swc/jest", swc] },
  transformIgnorePatterns: ["/node_modules/(?!jose/)"],
  // The client SDK is ESM source whose relative imports name the emitted file ("./errors.js");
  // the tests run that source itself, so point such imports back at the .ts file.
  // The examples import the packages by name ("session-api", "@session-api/backend"): the tests
  // run their source, so that one copy of the TypeGraphQL types is loaded.
  // The same for @session-api/backend as imported by examples/notes-api: its source, not its dist.
  moduleNameMapper: {
    "^(\\.{1,2}/.*)\\.js$": "$1",
    "^session-api$": "<rootDir>/src/index.ts",
    "^@session-api/backend$": "<rootDir>/backend/src/index.ts",
    "^@session-api/backend/(yoga|apollo)$": "<rootDir>/backend/src/$1.ts",
  },
  globalSetup: "<rootDir>/test/support/global-setup.ts",
  globalTeardown: "<rootDir>/test/support/global-teardown.ts",
  setupFiles: ["reflect-metadata"],
  // Files are independent (own schema, own port), so run them side by side; most time is I/O.
  maxWorkers: 3,
  testTimeout: 30000,
};
