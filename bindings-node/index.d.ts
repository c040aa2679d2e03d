export * from './binding'
import type { MessageText } from './binding'

/** `toMessageString(message)` reduced to what the core canonicalises. */
export declare function toMessageText(message: unknown): MessageText
/** `toMessageString(message)` of `@naskot/node-hmac-auth-core`: sorted-key canonical JSON. */
export declare function toMessageString(message: unknown): string
/** The key that marks non-plain objects in `MessageText.json`. */
export declare const MESSAGE_MARKER: string
