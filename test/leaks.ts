import { Socket } from 'node:net'

// What a leak would leave behind, counted in this process. Idle pooled sockets are unref'd, so
// getActiveResourcesInfo() does not list them; the handle list does.

/** Timers that keep the event loop alive. Between invocations the client must hold none. */
export const activeTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length

/** The client's sockets to a server on `port`, idle pooled ones included. */
export const clientSockets = (port: number) =>
  (process as unknown as { _getActiveHandles(): unknown[] })
    ._getActiveHandles()
    .filter((handle) => handle instanceof Socket && handle.remotePort === port).length

/** The keep-alive agent's maxFreeSockets (src/client/http.ts). */
export const maxFreeSockets = 32
