// The PGlite side of the driver seam. PGlite is one in-process connection that serializes every
// query and transaction itself, and it delivers NOTIFY to `listen()` callbacks in-process.
import type { ListenHandle, SqlDriver, SqlResult } from './driver.js';
import type { PGliteLike, PGliteResultsLike } from './pg-client.js';

/** Wraps a PGlite instance as a driver; nothing here closes it. */
export function pgliteDriver(db: PGliteLike): SqlDriver {
  return {
    async query(text, values) {
      return toResult(await db.query(text, values));
    },

    transaction(work) {
      return db.transaction((tx) =>
        work({
          async query(text, values) {
            return toResult(await tx.query(text, values));
          },
          async exec(text) {
            await tx.exec(text);
          },
        }),
      );
    },

    listen(channel, handlers): ListenHandle {
      let stopped = false;
      const started = db.listen(channel, (payload) => {
        if (!stopped) handlers.notify(payload);
      });
      started.catch((error: unknown) => handlers.failed(error));
      return {
        async stop() {
          stopped = true;
          const unlisten = await started.catch(() => undefined);
          if (unlisten !== undefined && !db.closed) await unlisten().catch(() => undefined);
        },
      };
    },
  };
}

function toResult(result: PGliteResultsLike): SqlResult {
  // Without the command tag's count (older PGlite), a SELECT changed nothing and DML without RETURNING returned nothing.
  return { rows: result.rows, rowCount: result.rowCount ?? Math.max(result.affectedRows ?? 0, result.rows.length) };
}
