/**
 * Safe, unique entry names for the ZIPs the service writes. A name is built from user data (patient
 * external ids, file names), so every path segment is cleaned: no `..` or `.`, no absolute paths, no
 * backslashes, no control characters, no characters Windows refuses, no Windows device names.
 */

const MAX_SEGMENT = 120;
// Windows device names, refused as a file name with or without an extension.
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/** One path segment, made safe: never empty, never `.`/`..`, never a separator or control character. */
export function safeSegment(raw: string): string {
  let s = raw
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[\\/:*?"<>|]/g, '_')
    .trim()
    .replace(/[. ]+$/, '');
  if (s === '' || /^\.+$/.test(s)) s = '_';
  if (RESERVED.test(s)) s = `_${s}`;
  if (s.length > MAX_SEGMENT) s = Array.from(s).slice(0, MAX_SEGMENT).join('');
  return s;
}

/** A relative path made of safe segments: `/` and `\` both separate; `.`, `..` and empty segments are dropped. */
export function safePath(raw: string): string {
  const parts = raw
    .split(/[\\/]+/)
    .filter((p) => p !== '' && p !== '.' && p !== '..')
    .map(safeSegment);
  return parts.length ? parts.join('/') : '_';
}

/** `<patient-external-id>/<image-id>_<suffix>`, each part cleaned. */
export function patientEntryName(patientExternalId: string, imageId: string, suffix = 'mask.png'): string {
  return `${safeSegment(patientExternalId)}/${safeSegment(`${imageId}_${suffix}`)}`;
}

/**
 * Hands out unique names: a clash (case-insensitive, as on Windows and macOS file systems) gets
 * a `_2`, `_3`… suffix before the extension. Only the names handed out are kept.
 */
export class UniqueNames {
  private readonly taken = new Set<string>();

  constructor(reserved: readonly string[] = []) {
    for (const r of reserved) this.taken.add(r.toLowerCase());
  }

  take(raw: string): string {
    const name = safePath(raw);
    if (this.claim(name)) return name;
    const slash = name.lastIndexOf('/');
    const dot = name.lastIndexOf('.');
    const cut = dot > slash + 1 ? dot : name.length;
    for (let n = 2; ; n++) {
      const candidate = `${name.slice(0, cut)}_${n}${name.slice(cut)}`;
      if (this.claim(candidate)) return candidate;
    }
  }

  private claim(name: string): boolean {
    const key = name.toLowerCase();
    if (this.taken.has(key)) return false;
    this.taken.add(key);
    return true;
  }
}
