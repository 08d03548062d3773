import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'certs/generated/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Error families are namespaces of RspError subclasses (PkiError.Expired, TlvError.Truncated), jose style.
    files: ['**/errors.ts'],
    rules: { '@typescript-eslint/no-namespace': 'off' },
  },
  {
    // libs/ hold pure protocol and domain code: no NestJS, MQTT or database in them.
    files: ['libs/tlv/**', 'libs/crypto/**', 'libs/pki/**', 'libs/saip/**', 'libs/card/**', 'libs/offcard/**', 'libs/contracts/**', 'libs/identity/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@nestjs/*', 'mqtt', 'aedes', 'typeorm', 'pg', 'better-sqlite3'] }],
    },
  },
  {
    // The services are off-card entities: they speak to an eUICC through @rsp/offcard and never ship the
    // virtual card (libs/card) or the simulator. An SM-DP pointed at a real eUICC carries no simulated one.
    // The off-card lib itself may not lean on the card either. Test: test/smoke/domain-imports-lint.spec.ts.
    files: ['apps/*/src/**', 'libs/offcard/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@rsp/card', '@rsp/card/*', '**/libs/card/**'], message: 'off-card code talks to a card through @rsp/offcard, not the virtual card' },
            { group: ['**/simulator/**'], message: 'the services never import the simulator: inject what tests need through a port' },
          ],
        },
      ],
    },
  },
  {
    // apps/*/src/domain: use cases behind ports (interfaces in the domain, implemented in adapters/): no
    // framework, database, broker or adapter import. Its own rule name, so that an app-wide
    // `no-restricted-imports` block applies to the domain files as well instead of being replaced.
    // Test: test/smoke/domain-imports-lint.spec.ts.
    files: ['apps/*/src/domain/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'mqtt', 'aedes', 'typeorm', 'pg', 'better-sqlite3', '@rsp/mqtt-transport'],
              message: 'domain code is transport- and database-free: take a port (an interface in the domain) implemented in adapters/',
            },
            { regex: '(^|/)adapters(/|$)', message: 'domain code reaches adapters only through ports it declares' },
          ],
          paths: [
            {
              // The database-bound parts of @rsp/persistence; its types and pure helpers stay usable.
              name: '@rsp/persistence',
              importNames: [
                'openDataSource', 'Outbox', 'OutboxRelay', 'StateMachine', 'IdempotencyStore', 'claimFirstRow', 'findRowsBy',
                'insertRow', 'insertRows', 'upsertRows', 'updateRows', 'isUniqueViolation', 'tableOf', 'toDbValue', 'driverOf',
                'runAdminSql', 'createSchema', 'dropSchema',
              ],
              allowTypeImports: true,
              message: 'domain code does not run SQL: take a port implemented in adapters/',
            },
          ],
        },
      ],
    },
  },
);
