/**
 * Secrets (passwords) registered here are replaced by `***` in everything the
 * CLI prints: logs, warnings, errors, JSON. Registering is done where a
 * password is first seen (connection settings), so no output path can forget.
 */
const secrets = new Set<string>();

export function registerSecret(secret: string | undefined | null): void {
  // Very short "secrets" would mangle ordinary output; PostgreSQL passwords
  // that short are not worth hiding from the person who typed them anyway,
  // but we still hide anything of 3+ characters.
  if (secret && secret.length >= 3) {
    secrets.add(secret);
    // As it appears in a URL, and inside a JSON string (a quote or backslash escaped).
    for (const form of [encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      if (form !== secret) secrets.add(form);
    }
  }
}

/** Register the password of a postgres:// URL (if it has one) before the URL is used or shown. */
export function registerUrlPassword(url: string): void {
  const m = /^[a-z][\w+.-]*:\/\/[^:/@\s]*:([^@\s]*)@/i.exec(url.trim());
  if (!m) return;
  registerSecret(m[1]);
  try {
    registerSecret(decodeURIComponent(m[1]!));
  } catch {
    // Not valid percent-encoding: the text as typed is what we registered.
  }
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  // A URL with inline credentials we never saw (for example inside a server
  // message): hide the password part too.
  return out.replace(/(postgres(?:ql)?(?:\+\w+)?:\/\/[^:/@\s]*):[^@\s]*@/gi, '$1:***@');
}

/** A URL safe to print: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return redact(url);
  }
}
