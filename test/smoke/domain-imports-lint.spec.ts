/**
 * The lint rule that keeps apps/*\/src/domain pure (eslint.config.js): a domain file may not import a
 * framework, a database or broker client, an adapter, or the SQL-running parts of @rsp/persistence; the
 * same imports are fine in an adapter, and the domain keeps its types and pure helpers. Run through ESLint's
 * API on snippets, so a rule nobody exercises cannot rot silently.
 */
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });
const RULE = '@typescript-eslint/no-restricted-imports';

/** The rule ids ESLint reports for `code` as if it were the file `filePath`. */
async function restrictions(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = [x];\n`, { filePath });
  return (result?.messages ?? []).filter((message) => message.ruleId === RULE).map((message) => message.message);
}

/** [what, import line] a domain file must not have. */
const FORBIDDEN: ReadonlyArray<readonly [string, string]> = [
  ['TypeORM', "import { DataSource as x } from 'typeorm';"],
  ['a TypeORM type', "import type { EntityManager as x } from 'typeorm';"],
  ['NestJS', "import { Injectable as x } from '@nestjs/common';"],
  ['the MQTT client', "import { connect as x } from 'mqtt';"],
  ['the MQTT transport lib', "import { connectMqtt as x } from '@rsp/mqtt-transport';"],
  ['the Postgres driver', "import x from 'pg';"],
  ['SQLite', "import x from 'better-sqlite3';"],
  ['an adapter entity', "import { MnoRecord as x } from '../adapters/entities/mno.entity';"],
  ['an adapter module', "import { smdpEntities as x } from '../adapters/persistence';"],
  ['a SQL helper of @rsp/persistence', "import { claimFirstRow as x } from '@rsp/persistence';"],
  ['the outbox of @rsp/persistence', "import { Outbox as x } from '@rsp/persistence';"],
];

/** [what, import line] a domain file may have. */
const ALLOWED: ReadonlyArray<readonly [string, string]> = [
  ['node:crypto', "import { randomUUID as x } from 'node:crypto';"],
  ['contracts', "import { isId as x } from '@rsp/contracts';"],
  ['a pure helper of @rsp/persistence', "import { TtlCache as x } from '@rsp/persistence';"],
  ['a type of @rsp/persistence', "import type { StateMachine as x } from '@rsp/persistence';"],
  ['another domain module', "import { SMDP_STATUS as x } from './status-codes';"],
];

describe('apps/*/src/domain imports (eslint.config.js)', () => {
  it.each(FORBIDDEN)('refuses %s in every app’s domain', async (_what, line) => {
    for (const app of ['sm-dp', 'sm-sr', 'owner-registry']) {
      expect(await restrictions(line, `apps/${app}/src/domain/snippet.ts`)).toHaveLength(1);
    }
  });

  it.each(FORBIDDEN)('lets an adapter import %s', async (_what, line) => {
    expect(await restrictions(line, 'apps/sm-dp/src/adapters/snippet.ts')).toEqual([]);
  });

  it.each(ALLOWED)('lets a domain file import %s', async (_what, line) => {
    expect(await restrictions(line, 'apps/sm-sr/src/domain/snippet.ts')).toEqual([]);
  });

  it('passes on the domain folders as they are', async () => {
    const results = await eslint.lintFiles(['apps/*/src/domain/**/*.ts']);
    const found = results.flatMap((result) => result.messages.filter((message) => message.ruleId === RULE).map((message) => `${result.filePath}: ${message.message}`));
    expect(found).toEqual([]);
  });
});

/** [what, import line] no file of a service may have (the virtual card and the simulator stay out of apps). */
const CARD_AND_SIMULATOR: ReadonlyArray<readonly [string, string]> = [
  ['@rsp/card', "import { VirtualEuicc as x } from '@rsp/card';"],
  ['a type of @rsp/card', "import type { CardState as x } from '@rsp/card';"],
  ['libs/card by path', "import { AID as x } from '../../../../libs/card/src/aids';"],
  ['the simulator', "import type { CardPool as x } from '../../../../simulator/src/card-host';"],
];

describe('apps/*/src never import the card or the simulator (eslint.config.js)', () => {
  const coreRule = async (code: string, filePath: string): Promise<string[]> => {
    const [result] = await eslint.lintText(`${code}\nexport const used = [x];\n`, { filePath });
    return (result?.messages ?? []).filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
  };

  it.each(CARD_AND_SIMULATOR)('refuses %s in every app, domain, adapters and es5 alike', async (_what, line) => {
    for (const file of ['sm-dp/src/domain/x.ts', 'sm-sr/src/es5/x.ts', 'sm-sr/src/adapters/persistence/x.ts', 'owner-registry/src/app.ts']) {
      expect(await coreRule(line, `apps/${file}`)).toHaveLength(1);
    }
  });

  it('refuses the card in @rsp/offcard too, and lets the services use @rsp/offcard', async () => {
    expect(await coreRule("import { VirtualEuicc as x } from '@rsp/card';", 'libs/offcard/src/x.ts')).toHaveLength(1);
    expect(await coreRule("import { createIsdpApdu as x } from '@rsp/offcard';", 'apps/sm-sr/src/domain/x.ts')).toEqual([]);
  });

  it('lets the services’ tests use the simulator', async () => {
    expect(await coreRule("import type { CardPool as x } from '../../../simulator/src/card-host';", 'apps/sm-sr/test/x.ts')).toEqual([]);
  });

  it('passes on apps/*/src and libs/offcard as they are', async () => {
    const results = await eslint.lintFiles(['apps/*/src/**/*.ts', 'libs/offcard/src/**/*.ts']);
    const found = results.flatMap((result) =>
      result.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => `${result.filePath}: ${message.message}`),
    );
    expect(found).toEqual([]);
  });
});
