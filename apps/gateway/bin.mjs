#!/usr/bin/env node
import { runGatewayCli } from "./dist/main.js";

// Exit explicitly: a handler's leftover timer must not keep a stopped gateway alive.
process.exit(await runGatewayCli(process.argv.slice(2)));
