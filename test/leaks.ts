import { subscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'

// What a leak would leave behind, counted in this process.

/** Timers that keep the event loop alive. Between invocations the client must hold none. */
export const activeTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length

// Idle pooled sockets are unref'd, so neither getActiveResourcesInfo() nor the handle list shows them:
// every client socket is tracked from its creation to its close instead.
const openClientSockets = new Set<Socket>()
subscribe('net.client.socket', (message) => {
  const { socket } = message as { socket: Socket }
  openClientSockets.add(socket)
  socket.once('close', () => openClientSockets.delete(socket))
})

/** Client sockets open to a server on `port` (or still connecting), idle pooled ones included. */
export const clientSockets = (port: number) =>
  [...openClientSockets].filter((socket) => socket.remotePort === port || socket.connecting).length

/** The keep-alive agent's socket cap (`maxSockets` in src/extension.ts): no more are ever open to one port. */
export const maxFreeSockets = 32
