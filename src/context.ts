/** What the routes and decorators share: resolved once at registration, read on every request. */
import type { preHandlerAsyncHookHandler } from 'fastify'
import type { AccessTokens } from './access/access-token.js'
import type { Dbsc } from './binding/dbsc/dbsc.js'
import type { DpopVerifier } from './binding/dpop/verifier.js'
import type { LoginLimiter } from './login-limiter/limiter.js'
import type { RefreshSessionsOptions, ResolvedOptions } from './options.js'
import type { PasswordHasher } from './password.js'
import type { SessionCore } from './session/session-core.js'
import type { Telemetry } from './telemetry.js'
import type { WorkGate } from './work-gate.js'

/** The app's own functions from the options: findUser, loadUser and the on... event callbacks. */
export type AppCallbacks = Pick<RefreshSessionsOptions, 'findUser' | 'loadUser' | 'verifyLegacyPassword' | 'onLogin' | 'onLoginFailed' | 'onRefresh' | 'onLogout' | 'onReuseDetected' | 'onPasswordRehash' | 'onSessionBound' | 'onProofRefused'>

export interface PluginContext {
  options: ResolvedOptions
  sessions: SessionCore
  tokens: AccessTokens
  /** The routes' hasher: its argon2 calls wait for the argon2Queue (throwing LoginBusyError when refused). */
  passwords: PasswordHasher
  /** That queue; null with `argon2Queue: false`. */
  argon2Queue: WorkGate | null
  limiter: LoginLimiter | null
  callbacks: AppCallbacks
  authenticate: preHandlerAsyncHookHandler
  telemetry: Telemetry
  /** Device Bound Session Credentials, when `dbsc.enabled`. */
  dbsc: Dbsc | null
  /** null when the dpop option is false. */
  dpop: DpopVerifier | null
}
