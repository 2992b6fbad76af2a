#!/usr/bin/env node
// The `odcs` command-line client (ODCS's CLI habits; see README "The odcs CLI").
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
