// NestJS guard: verifies the request against the raw body Nest keeps when the app is
// created with `{ rawBody: true }` (the exact signed bytes; a request without a body
// hashes ""), and answers failures with the original's error JSON and status (an
// HttpException whose response is `{ error, message }`). `request.hmacAuth` (or
// `attachAuthTo`) holds the verified request. Works on the Express and Fastify platforms.
//
//   const app = await NestFactory.create(AppModule, { rawBody: true })
//   app.useGlobalGuards(new HmacAuthGuard({ auth }))        // or @UseGuards(new HmacAuthGuard({ auth }))
//
// Body size: the platform's body parser reads the body first (its limit answers first:
// Express 100 kB by default, see `app.useBodyParser`); the guard then refuses bodies
// above `maxBodyBytes` (default 1 MiB) with 500 INTERNAL_ERROR before they are hashed.
import { HttpException } from '@nestjs/common'
import { checkAuth, checkLimit, errorBody, verify } from './common.js'

export class HmacAuthGuard {
  constructor(options) {
    checkAuth(options?.auth, 'HmacAuthGuard')
    this.auth = options.auth
    this.attachAuthTo = options.attachAuthTo ?? 'hmacAuth'
    this.verifyOptions = {
      maxBodyBytes: checkLimit(options.maxBodyBytes, 'HmacAuthGuard'),
      maxSkewMs: options.maxSkewMs,
      onBadSignature: options.onBadSignature,
    }
  }

  async canActivate(context) {
    const req = context.switchToHttp().getRequest()
    const raw = req.raw ?? req // Fastify platform: the Node request is `req.raw`
    const outcome = await verify(
      this.auth,
      {
        method: req.method,
        url: req.originalUrl ?? req.url,
        headers: req.headers,
        rawBody: req.rawBody ?? raw.rawBody ?? '',
        ip: req.ip,
        ips: req.ips,
        remoteAddress: raw.socket?.remoteAddress,
      },
      this.verifyOptions,
    )
    if (outcome.error) throw new HttpException(errorBody(outcome.error), outcome.error.status)
    req[this.attachAuthTo] = outcome.verified
    return true
  }
}

export default HmacAuthGuard
