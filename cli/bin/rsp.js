#!/usr/bin/env node
// Launcher of `npx rsp` (package.json "bin"): runs cli/rsp.ts through tsx's ESM loader, no build step.
// The repo's tsconfig is named explicitly so the @rsp/* path aliases resolve whatever the current directory.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) });
const { runRsp } = await import('../rsp.ts');
process.exitCode = await runRsp(process.argv.slice(2));
