export * from './binding'
import type { MessageText } from './binding'

/** `toMessageString(message)` reduced to what the core canonicalises. */
export declare function toMessageText(message: unknown): MessageText
/** `toMessageString(message)` of `@naskot/node-hmac-auth-core`: sorted-key canonical JSON. */
export declare function toMessageString(message: unknown): string
/** The key that marks non-plain objects in `MessageText.json`. */
export declare const MESSAGE_MARKER: string

/** @deprecated The core's name is `KeySet` (`authcore::jwt::KeySet`); this is the same class. */
export declare const JwtKeySet: typeof import('./binding').KeySet
/** @deprecated Same class as `KeySet`. */
export type JwtKeySet = import('./binding').KeySet
/** @deprecated The core's name is `passwordHashArgon2id` (`password::hash_argon2id`); the same function. */
export declare const argon2Hash: typeof import('./binding').passwordHashArgon2id
/** @deprecated The core's name is `passwordHashArgon2idSync`; the same function. */
export declare const argon2HashSync: typeof import('./binding').passwordHashArgon2idSync
/** @deprecated The core's name is `passwordVerifyArgon2` (`password::verify_argon2`); the same function. */
export declare const argon2Verify: typeof import('./binding').passwordVerifyArgon2
/** @deprecated The core's name is `passwordVerifyArgon2Sync`; the same function. */
export declare const argon2VerifySync: typeof import('./binding').passwordVerifyArgon2Sync
/** @deprecated The core's name is `metricsSetEnabled` (`metrics::set_enabled`); the same function. */
export declare const setMetricsEnabled: typeof import('./binding').metricsSetEnabled
