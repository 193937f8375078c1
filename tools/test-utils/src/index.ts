export { copyFixtureDir, testdir } from "./testdir.ts";
