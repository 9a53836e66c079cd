/**
 * PostgreSQL keeps identifiers to NAMEDATALEN - 1 = 63 bytes and cuts longer
 * ones on a character boundary (pg_mbcliplen), never inside a multibyte
 * character.
 */
export const MAX_IDENTIFIER_BYTES = 63;

/** `text` cut to at most `bytes` UTF-8 bytes, on a character boundary. */
export function clipBytes(text: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (used + n > bytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/** A name the tool derives: `base` cut so that `base + suffix` fits in 63 bytes; the suffix stays whole. */
export function derivedName(base: string, suffix: string): string {
  return clipBytes(base, MAX_IDENTIFIER_BYTES - Buffer.byteLength(suffix)) + suffix;
}

/**
 * The name PostgreSQL gives an object it names itself (makeObjectName in
 * src/backend/commands/indexcmds.c): name1_name2_label, the two names
 * shortened in turn, the longer first, until all fits in 63 bytes, each cut
 * on a character boundary. TimescaleDB's default time index is named so.
 */
export function objectName(name1: string, name2: string | null, label: string | null): string {
  const overhead = (name2 === null ? 0 : 1) + (label === null ? 0 : Buffer.byteLength(label) + 1);
  const avail = MAX_IDENTIFIER_BYTES - overhead;
  let n1 = Buffer.byteLength(name1);
  let n2 = name2 === null ? 0 : Buffer.byteLength(name2);
  while (n1 + n2 > avail) {
    if (n1 > n2) n1--;
    else n2--;
  }
  let out = clipBytes(name1, n1);
  if (name2 !== null) out += `_${clipBytes(name2, n2)}`;
  if (label !== null) out += `_${label}`;
  return out;
}

/**
 * The name TimescaleDB's default time index takes on `table` (it lets
 * PostgreSQL choose: ChooseRelationName), numbered as PostgreSQL numbers a
 * name it picks when another relation of the schema (`taken`) has it.
 */
export function freeIndexName(table: string, timeColumn: string, taken: Set<string>): string {
  let candidate = objectName(table, timeColumn, 'idx');
  for (let i = 1; taken.has(candidate); i++) candidate = objectName(table, timeColumn, `idx${i}`);
  return candidate;
}

/** `name`, or when `taken` has it, `name` with a number (cut to 63 bytes, the number kept whole). */
export function freeName(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let i = 1; taken.has(candidate); i++) candidate = derivedName(name, String(i));
  return candidate;
}

/**
 * Fold an unquoted identifier as PostgreSQL's parser does in a UTF-8 database
 * (downcase_identifier): only ASCII A-Z become a-z. JavaScript's toLowerCase()
 * also folds Ä, İ, Σ..., which would name another table than the one the
 * operator meant (`ÄVENTS` is "Ävents" to PostgreSQL, not "ävents").
 */
export function foldIdentifier(name: string): string {
  return name.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}
