#!/usr/bin/env node
// Runs the webpack bundle (npm run build); during development `node --import tsx src/cli.ts` does the same.
require('../dist/cli.js');
