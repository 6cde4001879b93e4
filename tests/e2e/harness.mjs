// Starts what an e2e run needs around the app (a private X server, tauri-driver) and stops it
// again, gently and within bounded time, whatever happened in between.
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import net from 'node:net'

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
}

/** Sends SIGTERM and waits up to `timeoutMs` for the process to end. */
export async function terminate(child, name, timeoutMs = 5_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const done = await Promise.race([
    exited(child).then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), timeoutMs)),
  ])
  if (!done) console.warn(`e2e: ${name} (pid ${child.pid}) still running ${timeoutMs} ms after SIGTERM`)
}

/**
 * Starts Xvfb on a display it picks itself (-displayfd), with a screen the size of the app
 * window, and resolves to [process, ':N'].
 */
export function startXvfb(logPath, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const log = openSync(logPath, 'w')
    const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1366x768x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', log, log, 'pipe'],
    })
    closeSync(log)
    const timer = setTimeout(() => {
      void terminate(xvfb, 'Xvfb')
      reject(new Error(`Xvfb did not report a display within ${timeoutMs} ms (see ${logPath})`))
    }, timeoutMs)
    let output = ''
    xvfb.stdio[3].on('data', (chunk) => {
      output += chunk.toString()
      if (output.includes('\n')) {
        clearTimeout(timer)
        resolve([xvfb, `:${output.trim()}`])
      }
    })
    xvfb.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

/** Starts tauri-driver on the given ports with `env`, logging to `logPath`. */
export function startTauriDriver(binary, port, nativePort, env, logPath) {
  const log = openSync(logPath, 'w')
  const driver = spawn(binary, ['--port', String(port), '--native-port', String(nativePort)], {
    env,
    stdio: ['ignore', log, log],
  })
  closeSync(log)
  return driver
}
