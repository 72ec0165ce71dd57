// One project per workspace, so `npm test` runs them all and `npm test -w <workspace>` runs one.
// Workspace packages resolve to their sources; tests that start processes use the built dist/.
const path = require('node:path');
const { workspaces } = require('./package.json');

const project = (dir, displayName, testMatch = ['<rootDir>/tests/**/*.test.ts']) => ({
  displayName,
  rootDir: path.join(__dirname, dir),
  testEnvironment: 'node',
  testMatch,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.test.json') }] },
  moduleNameMapper: {
    '^@twin/(observability|service-kit|products|thumbnails|mesh|canary)$': path.join(
      __dirname,
      'packages/$1/src',
    ),
    // Subpath exports (@twin/service-kit/config) too; package.json stays the package's own file.
    '^@twin/(observability|service-kit|products|thumbnails|mesh|canary)/(?!package\\.json$)(.+)$': path.join(
      __dirname,
      'packages/$1/src/$2',
    ),
  },
});

module.exports = {
  // A bound on a hang, not a measure of speed: on a busy 2-CPU machine a hook that starts a real
  // dynalite or s3rver and fills it can take longer than jest's default 5 s. Tests that need more
  // say so themselves.
  testTimeout: 60_000,
  projects: [
    ...workspaces.map((dir) => project(dir, require(`./${dir}/package.json`).name)),
    // Tests of the deployment configs and of the system as a whole.
    project('tests', 'system', ['<rootDir>/**/*.test.ts']),
  ],
};
