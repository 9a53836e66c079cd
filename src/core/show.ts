/**
 * A value the user typed, as an error message echoes it: control characters
 * made visible (a name holding a newline or an escape sequence would otherwise
 * print as nothing, or move the cursor), and cut to its first characters (a
 * 10 KB value is not repeated whole).
 */
const SHOWN_CHARS = 60;

/** `"value"`, quoted, escaped like a JSON string, at most SHOWN_CHARS characters of it. */
export function showValue(value: string): string {
  const chars = [...value];
  const cut = chars.length > SHOWN_CHARS;
  const text = cut ? chars.slice(0, SHOWN_CHARS).join('') : value;
  // JSON.stringify escapes C0 controls and quotes; DEL, C1 controls and the line
  // and paragraph separators are escaped here too.
  const escaped = JSON.stringify(text).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return cut ? `${escaped.slice(0, -1)}…" (${chars.length} characters)` : escaped;
}
