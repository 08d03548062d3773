/**
 * File-system ProfileElements built from the Interoperable Format templates: PE-MF and PE-USIM.
 * Components are AUTOMATIC-tagged by position: [0] header A0, [1] templateID 81, then one File per
 * position ([n] → A0 + n, so ef-acc [18] is B2, ef-ecc [22] is B6).
 */
import type { Tlv } from '@rsp/tlv';
import { SaipError } from './errors';
import { SequenceReader, contextTag, cons, decodeOid, encodeOid, prim } from './der';
import { decodeFileElements, encodeFileElements, fileContent, withFileContent, type FileElement } from './file';
import { decodePeHeader, encodePeHeader, type PeHeader } from './header';

/** One file of a template PE: its component name (e.g. `ef-imsi`) and its File elements. */
export interface TemplateFile {
  name: string;
  elements: FileElement[];
}

export interface FileSystemElement<K extends 'mf' | 'usim'> {
  kind: K;
  header: PeHeader;
  /** Template OID in dotted form (`2.23.143.1.2.1` MF, `2.23.143.1.2.4` USIM). */
  templateId: string;
  /** Files in component order; mandatory ones must be present (possibly with no elements). */
  files: TemplateFile[];
  extensions?: Buffer[];
}
export type MfElement = FileSystemElement<'mf'>;
export type UsimElement = FileSystemElement<'usim'>;

interface FileComponent {
  name: string;
  optional: boolean;
}
const f = (name: string, optional = false): FileComponent => ({ name, optional });

/*
 * PE-MF ::= SEQUENCE {
 *   mf-header PEHeader, templateID OBJECT IDENTIFIER,
 *   mf File, ef-pl File OPTIONAL, ef-iccid File, ef-dir File, ef-arr File, ef-umpc File OPTIONAL
 * }
 */
const MF_FILES: readonly FileComponent[] = [f('mf'), f('ef-pl', true), f('ef-iccid'), f('ef-dir'), f('ef-arr'), f('ef-umpc', true)];

/*
 * PE-USIM ::= SEQUENCE {
 *   usim-header PEHeader, templateID OBJECT IDENTIFIER,
 *   adf-usim File, ef-imsi File, ef-arr File, ef-keys File OPTIONAL, ef-keysPS File OPTIONAL,
 *   ef-hpplmn File OPTIONAL, ef-ust File, ef-fdn File OPTIONAL, ef-sms File OPTIONAL, ef-smsp File OPTIONAL,
 *   ef-smss File OPTIONAL, ef-spn File, ef-est File, ef-start-hfn File OPTIONAL, ef-threshold File OPTIONAL,
 *   ef-psloci File OPTIONAL, ef-acc File, ef-fplmn File OPTIONAL, ef-loci File OPTIONAL, ef-ad File OPTIONAL,
 *   ef-ecc File, ef-netpar File OPTIONAL, ef-epsloci File OPTIONAL, ef-epsnsc File OPTIONAL
 * }
 */
const USIM_FILES: readonly FileComponent[] = [
  f('adf-usim'), f('ef-imsi'), f('ef-arr'), f('ef-keys', true), f('ef-keysPS', true), f('ef-hpplmn', true),
  f('ef-ust'), f('ef-fdn', true), f('ef-sms', true), f('ef-smsp', true), f('ef-smss', true), f('ef-spn'),
  f('ef-est'), f('ef-start-hfn', true), f('ef-threshold', true), f('ef-psloci', true), f('ef-acc'),
  f('ef-fplmn', true), f('ef-loci', true), f('ef-ad', true), f('ef-ecc'), f('ef-netpar', true),
  f('ef-epsloci', true), f('ef-epsnsc', true),
];

/** Template OIDs (TCA Interoperable Format Annex A; as carried by the GSMA TS.48 test profile). */
export const TEMPLATE_OID = { mf: '2.23.143.1.2.1', usim: '2.23.143.1.2.4' } as const;

const SPECS = { mf: MF_FILES, usim: USIM_FILES } as const;
/** The position of the first File component (after header and templateID). */
const FIRST_FILE_POSITION = 2;

export function fileSystemComponents(kind: 'mf' | 'usim'): readonly string[] {
  return SPECS[kind].map((c) => c.name);
}

export function encodeFileSystemElement<K extends 'mf' | 'usim'>(pe: FileSystemElement<K>, tag: number): Buffer {
  const spec = SPECS[pe.kind];
  const byName = new Map<string, TemplateFile>();
  for (const file of pe.files) {
    if (!spec.some((c) => c.name === file.name)) throw new SaipError.BadValue(`PE-${pe.kind}: unknown file ${file.name}`);
    if (byName.has(file.name)) throw new SaipError.BadValue(`PE-${pe.kind}: file ${file.name} given twice`);
    byName.set(file.name, file);
  }
  const parts = spec.map((component, i) => {
    const file = byName.get(component.name);
    if (file === undefined) {
      if (component.optional) return undefined;
      throw new SaipError.BadValue(`PE-${pe.kind}: mandatory file ${component.name} missing`);
    }
    return encodeFileElements(file.elements, contextTag(FIRST_FILE_POSITION + i, true));
  });
  return cons(tag, [encodePeHeader(pe.header), prim(0x81, encodeOid(pe.templateId)), ...parts, ...(pe.extensions ?? [])]);
}

export function decodeFileSystemElement<K extends 'mf' | 'usim'>(tlv: Tlv, kind: K): FileSystemElement<K> {
  const what = `PE-${kind.toUpperCase()}`;
  const r = SequenceReader.of(tlv, what);
  const header = decodePeHeader(r.need(0xa0, 'header'), `${what}.header`);
  const templateId = decodeOid(r.need(0x81, 'templateID').value, `${what}.templateID`);
  const files: TemplateFile[] = [];
  SPECS[kind].forEach((component, i) => {
    const tag = contextTag(FIRST_FILE_POSITION + i, true);
    const found = component.optional ? r.take(tag) : r.need(tag, component.name);
    if (found) files.push({ name: component.name, elements: decodeFileElements(found, `${what}.${component.name}`) });
  });
  const pe: FileSystemElement<K> = { kind, header, templateId, files };
  const extensions = r.rest();
  if (extensions) pe.extensions = extensions;
  return pe;
}

/** The File named `name` of a template PE, or undefined when it is absent. */
export function findFile(pe: FileSystemElement<'mf' | 'usim'>, name: string): TemplateFile | undefined {
  return pe.files.find((file) => file.name === name);
}

/** The content a named file is filled with by the package, or undefined (template default). */
export function readFileContent(pe: FileSystemElement<'mf' | 'usim'>, name: string): Buffer | undefined {
  const file = findFile(pe, name);
  return file === undefined ? undefined : fileContent(file.elements);
}

/**
 * A copy of `pe` whose file `name` is filled with `content` (FCP kept). With `createIfMissing`, an absent
 * optional file is added with only that content (its FCP comes from the template).
 */
export function withReplacedFile<K extends 'mf' | 'usim'>(
  pe: FileSystemElement<K>,
  name: string,
  content: Buffer,
  createIfMissing = false,
): FileSystemElement<K> {
  const exists = pe.files.some((file) => file.name === name);
  if (!exists && !createIfMissing) throw new SaipError.TemplateMismatch(`PE-${pe.kind} has no ${name}`);
  const files = exists
    ? pe.files.map((file) => (file.name === name ? { name, elements: withFileContent(file.elements, content) } : file))
    : [...pe.files, { name, elements: withFileContent([], content) }];
  const order = fileSystemComponents(pe.kind);
  files.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  return { ...pe, files };
}
