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
    files: ['libs/tlv/**', 'libs/crypto/**', 'libs/pki/**', 'libs/saip/**', 'libs/card/**', 'libs/contracts/**', 'libs/identity/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@nestjs/*', 'mqtt', 'aedes', 'typeorm', 'pg', 'better-sqlite3'] }],
    },
  },
);
