#!/usr/bin/env node
import { exitWhenDone, runCli } from "./dist/main.js";

exitWhenDone(await runCli(process.argv.slice(2)));
