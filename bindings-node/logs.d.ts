import type { Channel } from 'node:diagnostics_channel'
/** One core log event: what ran (`op`), its `outcome` code, and the client it concerned. */
export interface AuthcoreLogRecord {
  level: 'error' | 'warn' | 'info' | 'debug' | 'trace'
  message: string
  op: string
  outcome: string
  client_id?: string
  user_id?: string
  [field: string]: string | undefined
}
/** A logger like the originals' option: `{info, warn, error}` (and `debug` if present). */
export interface AuthcoreLogger {
  info(message: string, record?: AuthcoreLogRecord): void
  warn(message: string, record?: AuthcoreLogRecord): void
  error(message: string, record?: AuthcoreLogRecord): void
  debug?(message: string, record?: AuthcoreLogRecord): void
}
export declare function enableLogs(options?: { level?: 'off' | 'error' | 'warn' | 'info' | 'debug' | 'trace'; logger?: AuthcoreLogger }): boolean
export declare function disableLogs(): void
/** `diagnostics_channel.channel('authcore:log')`. */
export declare const channel: Channel
export declare const CHANNEL_NAME: 'authcore:log'
