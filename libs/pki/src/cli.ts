/**
 * `npm run certs -- --out DIR --curve nist|brainpool|both [--euiccs N] [--validity-days N]`
 *
 * Generates the SGP.02 test PKI (CI, EUM, CERT.DP/SR.ECDSA, CERT.ECASD.ECKA, CRLs, TLS) and writes it
 * with SGP.26-style names; see certs/README.md. The private keys are test keys: never commit them.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CurveName } from '@rsp/crypto';
import { generateTestPki } from './test-pki';
import { writeTestPki } from './test-pki-files';

const CURVES: Record<string, CurveName[]> = {
  nist: ['P-256'],
  brainpool: ['brainpoolP256r1'],
  both: ['P-256', 'brainpoolP256r1'],
};

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('must be a positive integer');
  return value;
}

/** The `certs` command; `log` receives one summary line per curve (stdout by default). */
export function buildCertsCommand(log: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Command {
  return new Command('certs')
    .description('Generate the SGP.02 simulator test PKI (test keys only, never for production)')
    .option('--out <dir>', 'output directory', 'certs/generated')
    .addOption(new Option('--curve <curve>', 'curve of the GSMA certificates').choices(Object.keys(CURVES)).default('both'))
    .option('--euiccs <n>', 'number of demo eUICCs', positiveInteger, 2)
    .option('--validity-days <n>', 'validity of every certificate in days', positiveInteger, 3650)
    .action((options: { out: string; curve: string; euiccs: number; validityDays: number }) => {
      const dir = resolve(options.out);
      for (const curve of CURVES[options.curve] ?? []) {
        const pki = generateTestPki({ curve, euiccCount: options.euiccs, validityDays: options.validityDays });
        const files = writeTestPki(pki, dir);
        log(`${curve}: ${files.length} files in ${dir} (EIDs ${pki.euiccs.map((e) => e.eid).join(', ')})`);
      }
    });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildCertsCommand().parse(process.argv);
}
