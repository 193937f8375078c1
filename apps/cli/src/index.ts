export { EXIT_CODES, type ExitCode } from "./exit-codes.ts";
export { CLI_VERSION, exitWhenDone, type RunCliOptions, runCli } from "./main.ts";
