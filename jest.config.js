// Tests are written in TypeScript and compiled by `tsc -p tests` into tests/dist before jest runs them.
export default {
  testEnvironment: "node",
  testMatch: ["<rootDir>/tests/dist/**/*.test.js"],
  transform: {},
  moduleFileExtensions: ["js", "mjs", "cjs", "json", "node"],
  testTimeout: 60000,
};
